import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { toNumbers } from '../common/values.ts';
import { midView, type MidView } from '../elementwise-binary/wasm.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { A, AS, AZ, B, BS, BZ, CS, CZ, qlinearBinaryPlan } from './op.ts';

/**
 * com.microsoft QLinearAdd in wasm (kernels/wasm/src/qlinear-eltwise.c), onnxruntime's float32
 * steps as the reference. Same shapes, or one operand broadcast along one contiguous run of dims
 * (per channel, a row...). Scales and zero points are read once per run (constants at prepare).
 */
const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);
const PARAMS = [AS, AZ, BS, BZ, CS, CZ] as const;

const qlinearAdd: WasmKernel = (inputs, outputs, ctx) => {
  const p = qlinearBinaryPlan(inputs, ctx);
  const [a, b] = [inputs[A]!, inputs[B]!];
  const out = p.out.dims;
  const n = count(out);
  const [na, nb] = [count(a.dims), count(b.dims)];
  let form: number;
  let view: MidView | undefined;
  if (na === n && nb === n) [form, view] = [0, { outer: 1, mid: 1, inner: n }];
  else if (na === n) [form, view] = [1, midView(out, b.dims)];
  else if (nb === n) [form, view] = [2, midView(out, a.dims)];
  else return undefined; // both operands broadcast: js
  if (!view) return undefined;
  const { outer, mid, inner } = view;
  const fed = PARAMS.filter((s) => inputs[s] && !ctx.constants[s]);
  const value = (k: { memory: WebAssembly.Memory }, at: readonly number[], slot: number): number => {
    const m = inputs[slot];
    if (!m) return 0;
    const c = ctx.constants[slot];
    if (c) return toNumbers(c)[0]!;
    const buf = k.memory.buffer;
    return m.dtype === 'float32' ? new Float32Array(buf, at[slot]!, 1)[0]! : m.dtype === 'int8' ? new Int8Array(buf, at[slot]!, 1)[0]! : new Uint8Array(buf, at[slot]!, 1)[0]!;
  };
  const [lo, hi] = p.range;
  const signed = a.dtype === 'int8' ? 1 : 0;
  let f: WasmExport | undefined;
  let fixed: number[] | undefined;
  return {
    reads: [A, B, ...fed],
    scratchBytes: 0,
    persistentBytes: [],
    prepare(k) {
      f = k.fn('kiln_qlinear_add');
      if (fed.length === 0) fixed = PARAMS.map((s) => value(k, [], s));
    },
    run(k, at) {
      f ??= k.fn('kiln_qlinear_add');
      const [sa, za, sb, zb, sc, zc] = fixed ?? PARAMS.map((s) => value(k, at.inputs, s));
      f(form, at.inputs[A]!, at.inputs[B]!, at.outputs[0]!, outer, mid, inner, signed, sa!, za!, sb!, zb!, sc!, zc!, lo, hi);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('com.microsoft', 'QLinearAdd')]: qlinearAdd };
