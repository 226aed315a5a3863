import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import { FLOAT_TYPES, requireInput, requireType } from '../common/shape.ts';
import { fromNumbers, metaOf, toNumbers } from '../common/values.ts';
import type { KernelContext, MaybeMeta, OpDefinition, TensorMeta } from '../contract.ts';
import { resolveActivations } from './activations.ts';

/**
 * RNN, GRU and LSTM (ONNX gate layouts: GRU z, r, h; LSTM i, o, f, c), forward, reverse or
 * bidirectional, with sequence_lens, initial states, LSTM peepholes and input_forget, clip, the
 * named activations and layout 0/1. The references step through time as the spec writes it;
 * they run on the CPU in every session (no WGSL kernel yet: a recurrence is a chain of small
 * dependent steps, where a GPU dispatch per step buys little).
 */

type Kind = 'RNN' | 'GRU' | 'LSTM';
const GATES: Readonly<Record<Kind, number>> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Readonly<Record<Kind, readonly string[]>> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

interface RnnLayout {
  readonly outs: TensorMeta[];
  readonly seq: number;
  readonly batch: number;
  readonly input: number;
  readonly hidden: number;
  readonly dirs: number;
  readonly reverseOnly: boolean;
  readonly layout: number;
}

function rnnLayout(kind: Kind, inputs: readonly MaybeMeta[], ctx: KernelContext): RnnLayout {
  const x = requireInput(inputs, 0, ctx);
  const w = requireInput(inputs, 1, ctx);
  const r = requireInput(inputs, 2, ctx);
  requireType(x, FLOAT_TYPES, ctx, 'X');
  const direction = ctx.attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) fail('INVALID_GRAPH', `node '${ctx.node}': ${kind} direction '${direction}' is not forward, reverse or bidirectional`);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const layout = ctx.attrs.int('layout', 0);
  if (x.dims.length !== 3) fail('INVALID_GRAPH', `node '${ctx.node}': ${kind} X must be rank 3, got dims [${x.dims.join(', ')}]`);
  const [seq, batch] = layout === 0 ? [x.dims[0]!, x.dims[1]!] : [x.dims[1]!, x.dims[0]!];
  const input = x.dims[2]!;
  const hidden = ctx.attrs.int('hidden_size') ?? r.dims[2];
  const g = GATES[kind];
  const want = (m: TensorMeta, dims: number[], what: string): void => {
    if (m.dims.length !== dims.length || m.dims.some((d, i) => d !== dims[i])) fail('INVALID_GRAPH', `node '${ctx.node}': ${kind} ${what} must be [${dims.join(', ')}], got [${m.dims.join(', ')}]`);
  };
  if (hidden === undefined) return fail('INVALID_GRAPH', `node '${ctx.node}': ${kind} needs hidden_size`);
  want(w, [dirs, g * hidden, input], 'W');
  want(r, [dirs, g * hidden, hidden], 'R');
  if (inputs[3]) want(inputs[3], [dirs, 2 * g * hidden], 'B');
  if (inputs[4]) want(inputs[4], [batch], 'sequence_lens');
  const stateDims = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  if (inputs[5]) want(inputs[5], stateDims, 'initial_h');
  if (kind === 'LSTM' && inputs[6]) want(inputs[6], stateDims, 'initial_c');
  if (kind === 'LSTM' && inputs[7]) want(inputs[7], [dirs, 3 * hidden], 'P');
  const yDims = layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden];
  const outs = [{ dtype: x.dtype, dims: yDims }, { dtype: x.dtype, dims: stateDims }];
  if (kind === 'LSTM') outs.push({ dtype: x.dtype, dims: stateDims });
  return { outs, seq, batch, input, hidden, dirs, reverseOnly: direction === 'reverse', layout };
}

function run(kind: Kind, inputs: readonly (AnyTensor | undefined)[], ctx: KernelContext): AnyTensor[] {
  const L = rnnLayout(kind, inputs.map((t) => t && metaOf(t)), ctx);
  const [x, w, r] = [toNumbers(inputs[0]!), toNumbers(inputs[1]!), toNumbers(inputs[2]!)];
  const bias = inputs[3] && toNumbers(inputs[3]);
  const lens = inputs[4] ? Array.from(toNumbers(inputs[4])) : new Array<number>(L.batch).fill(L.seq);
  const h0 = inputs[5] && toNumbers(inputs[5]);
  const c0 = kind === 'LSTM' && inputs[6] ? toNumbers(inputs[6]) : undefined;
  const peep = kind === 'LSTM' && inputs[7] ? toNumbers(inputs[7]) : undefined;
  const g = GATES[kind];
  const H = L.hidden;
  const per = DEFAULT_ACTS[kind].length;
  const names = ctx.attrs.strings('activations') ?? Array.from({ length: L.dirs }, () => DEFAULT_ACTS[kind]).flat();
  if (names.length !== per * L.dirs) fail('INVALID_GRAPH', `node '${ctx.node}': ${kind} needs ${per * L.dirs} activations, got ${names.length}`);
  const acts = resolveActivations(names, ctx.attrs.floats('activation_alpha', []), ctx.attrs.floats('activation_beta', []), `node '${ctx.node}'`);
  const clip = ctx.attrs.float('clip');
  const clipped = (v: number): number => (clip === undefined ? v : Math.max(-clip, Math.min(clip, v)));
  const linearBeforeReset = ctx.attrs.int('linear_before_reset', 0) !== 0;
  const inputForget = ctx.attrs.int('input_forget', 0) !== 0;
  const Y = new Float64Array(L.seq * L.dirs * L.batch * H);
  const Yh = new Float64Array(L.dirs * L.batch * H);
  const Yc = new Float64Array(L.dirs * L.batch * H);
  const xAt = (t: number, b: number, i: number): number => x[(L.layout === 0 ? t * L.batch + b : b * L.seq + t) * L.input + i]!;
  const stateAt = (d: number, b: number): number => (L.layout === 0 ? d * L.batch + b : b * L.dirs + d) * H;
  const yAt = (t: number, d: number, b: number): number => (L.layout === 0 ? (t * L.dirs + d) * L.batch + b : (b * L.seq + t) * L.dirs + d) * H;
  for (let d = 0; d < L.dirs; d++) {
    const reverse = L.reverseOnly || d === 1;
    const [f, gAct, hAct] = [acts[d * per]!, acts[d * per + 1] ?? acts[d * per]!, acts[d * per + 2] ?? acts[d * per]!];
    // pre-activation of gate q, unit j: W x + R h (+ biases)
    const wDot = (q: number, j: number, t: number, b: number): number => {
      let s = bias ? bias[d * 2 * g * H + q * H + j]! : 0;
      for (let i = 0; i < L.input; i++) s += w[((d * g + q) * H + j) * L.input + i]! * xAt(t, b, i);
      return s;
    };
    const rDot = (q: number, j: number, h: Float64Array): number => {
      let s = bias ? bias[d * 2 * g * H + (g + q) * H + j]! : 0;
      for (let k = 0; k < H; k++) s += r[((d * g + q) * H + j) * H + k]! * h[k]!;
      return s;
    };
    for (let b = 0; b < L.batch; b++) {
      const h = h0 ? Float64Array.from(h0.subarray(stateAt(d, b), stateAt(d, b) + H)) : new Float64Array(H);
      const c = c0 ? Float64Array.from(c0.subarray(stateAt(d, b), stateAt(d, b) + H)) : new Float64Array(H);
      const len = lens[b]!;
      for (let step = 0; step < len; step++) {
        const t = reverse ? len - 1 - step : step;
        const next = new Float64Array(H);
        if (kind === 'RNN') {
          for (let j = 0; j < H; j++) next[j] = f(clipped(wDot(0, j, t, b) + rDot(0, j, h)));
        } else if (kind === 'GRU') {
          const z = Array.from({ length: H }, (_, j) => f(clipped(wDot(0, j, t, b) + rDot(0, j, h))));
          const rg = Array.from({ length: H }, (_, j) => f(clipped(wDot(1, j, t, b) + rDot(1, j, h))));
          const gated = h.map((v, k) => rg[k]! * v);
          for (let j = 0; j < H; j++) {
            const rec = linearBeforeReset ? rg[j]! * rDot(2, j, h) : rDot(2, j, gated);
            const cand = gAct(clipped(wDot(2, j, t, b) + rec));
            next[j] = (1 - z[j]!) * cand + z[j]! * h[j]!;
          }
        } else {
          const pre = (q: number, j: number): number => wDot(q, j, t, b) + rDot(q, j, h);
          const nextC = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const ft = f(clipped(pre(2, j) + (peep ? peep[d * 3 * H + 2 * H + j]! * c[j]! : 0)));
            const it = inputForget ? 1 - ft : f(clipped(pre(0, j) + (peep ? peep[d * 3 * H + j]! * c[j]! : 0)));
            const ct = gAct(clipped(pre(3, j)));
            nextC[j] = ft * c[j]! + it * ct;
            const ot = f(clipped(pre(1, j) + (peep ? peep[d * 3 * H + H + j]! * nextC[j]! : 0)));
            next[j] = ot * hAct(nextC[j]!);
          }
          c.set(nextC);
        }
        h.set(next);
        Y.set(h, yAt(t, d, b));
      }
      Yh.set(h, stateAt(d, b));
      Yc.set(c, stateAt(d, b));
    }
  }
  const dtype = inputs[0]!.type;
  const outs = [fromNumbers(dtype, L.outs[0]!.dims, Y), fromNumbers(dtype, L.outs[1]!.dims, Yh)];
  if (kind === 'LSTM') outs.push(fromNumbers(dtype, L.outs[2]!.dims, Yc));
  return outs;
}

const definition = (kind: Kind): OpDefinition => ({
  opType: kind,
  inferOutputs: (inputs, ctx) => rnnLayout(kind, inputs, ctx).outs,
  reference: (inputs, ctx) => run(kind, inputs, ctx),
});

export const definitions: readonly OpDefinition[] = [definition('RNN'), definition('GRU'), definition('LSTM')];
