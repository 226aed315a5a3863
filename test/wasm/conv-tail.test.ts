// Elementwise chains run as a conv's tail on the wasm backend (runtime/backends/wasm/wasm-backend.ts
// `tails`, kernels/wasm/tail.ts, kernels/wasm/src/conv-f32.c kiln_run_tail): the chain after a Conv
// runs on each piece of the conv's output right after the conv computed it. Checked: the answer
// against the separate ops' references, the same bits on 1, 2 and 3 threads, the same bits as the
// chain run as its own pass (the same model with the chain reading the conv through a Reshape, which
// no tail takes), every chain step fused into the conv; a chain whose operand is computed after the
// conv stays a pass of its own; and a value born between the conv and the chain's last step never
// shares bytes with the chain's output, which the tail writes from the conv on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { compareTensors } from '../helpers/compare.ts';
import { testRng } from '../helpers/random.ts';
import { expectSameOnThreads } from '../helpers/same-on-threads.ts';

const rng = testRng(import.meta.url);
const size = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);
const tensor = (dims: readonly number[], lo: number, hi: number): Tensor<'float32'> => new Tensor('float32', Float32Array.from(rng.floats(size(dims), lo, hi)), [...dims]);

interface ConvCase {
  readonly x: readonly number[];
  readonly cout: number;
  readonly k: number;
  readonly group: number;
}

/** Conv (pads k/2, bias; inits w and b) then `tail` nodes reading 'y' (the conv's output, or its Reshape to itself when `viaReshape`) and writing 'z'. */
function model(c: ConvCase, tail: WriterNode[], inits: Record<string, Tensor<'float32'>>, viaReshape = false, extraInputs: { name: string; dims: readonly number[] }[] = []): Uint8Array {
    const pad = c.k >> 1;
  const conv: WriterNode = { opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: [viaReshape ? 'y0' : 'y'], attrs: { kernel_shape: [c.k, c.k], pads: [pad, pad, pad, pad], group: c.group } };
  const reshape: WriterNode[] = viaReshape ? [{ opType: 'Reshape', inputs: ['y0', 'yshape'], outputs: ['y'] }] : [];
  const ydims = [c.x[0]!, c.cout, c.x[2]!, c.x[3]!];
  return encodeOnnxModel({
    nodes: [conv, ...reshape, ...tail],
    inputs: [{ name: 'x', dtype: 'float32', dims: [...c.x] }, ...extraInputs.map((e) => ({ name: e.name, dtype: 'float32' as const, dims: [...e.dims] }))],
    outputs: [{ name: 'z', dtype: 'float32' }],
    initializers: {
      ...inits,
      ...(viaReshape ? { yshape: new Tensor('int64', BigInt64Array.from(ydims.map(BigInt)), [4]) } : {}),
    } as Record<string, Tensor<'float32'>>,
    opsets: { '': 17 },
  });
}

async function wasmRun(bytes: Uint8Array, feeds: Record<string, Tensor<'float32'>>): Promise<{ z: Float32Array; fusedInto: (string | undefined)[]; ops: string[] }> {
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  try {
    const out = await s.run(feeds);
    const steps = s.lastPlacement!.steps;
    return { z: out.z!.data as Float32Array, fusedInto: steps.map((st) => st.fusedInto), ops: steps.map((st) => st.opType) };
  } finally {
    await s.release();
  }
}

const perChannel = (c: number, lo: number, hi: number): Tensor<'float32'> => tensor([c, 1, 1], lo, hi);
/** the conv's weight and bias, drawn once per case (both models of a case share them) */
const convInits = (c: ConvCase): Record<string, Tensor<'float32'>> => ({ w: tensor([c.cout, c.x[1]! / c.group, c.k, c.k], -0.3, 0.3), b: tensor([c.cout], -0.5, 0.5) });

test(`a grouped 3x3 conv with a fused HardSwish, then Mul, Add, HardSwish, Mul, Add as its tail: = references, same bits on 1-3 threads and as the chain's own pass (seed ${rng.seed})`, async () => {
  // 2 images x 2 groups x 4 chunks of 448 positions, the last 173 (no multiple of 4); cout_g 16
  const c: ConvCase = { x: [2, 16, 41, 37], cout: 32, k: 3, group: 2 };
  const tail: WriterNode[] = [
    { opType: 'HardSwish', inputs: ['y'], outputs: ['h0'] },
    { opType: 'Mul', inputs: ['h0', 's1'], outputs: ['a'] },
    { opType: 'Add', inputs: ['a', 'b1'], outputs: ['bb'] },
    { opType: 'HardSwish', inputs: ['bb'], outputs: ['h'] },
    { opType: 'Mul', inputs: ['s2', 'h'], outputs: ['m'] },
    { opType: 'Add', inputs: ['m', 'r'], outputs: ['z'] },
  ];
  const inits = { ...convInits(c), s1: perChannel(c.cout, 0.5, 2), b1: new Tensor('float32', Float32Array.of(rng.range(-1, 1)), []), s2: perChannel(c.cout, -2, 2) };
  const ydims = [2, 32, 41, 37];
  const extra = [{ name: 'r', dims: ydims }];
  const feeds = { x: tensor(c.x, -3, 3), r: tensor(ydims, -1, 1) };
  const bytes = model(c, tail, inits, false, extra);
  // every step but the conv is fused (the first HardSwish into the conv by the graph passes, the chain as its tail)
  await expectSameOnThreads(bytes, feeds, rng.seed, { rtol: 1e-5, atol: 1e-5, split: true, unfusedSteps: 1 });
  const tailed = await wasmRun(bytes, feeds);
  assert.deepEqual(tailed.fusedInto.filter((f) => f !== undefined).length, tailed.ops.length - 1, `chain steps fused into the conv: ${tailed.ops.join(', ')}`);
  const ownPass = await wasmRun(model(c, tail, inits, true, extra), feeds);
  assert.ok(ownPass.fusedInto.some((f, i) => f === undefined && ownPass.ops[i] === 'Add'), 'through the Reshape the chain runs as a pass of its own');
  assert.ok(tailed.z.every((v, i) => Object.is(v, ownPass.z[i])), 'the tail gives the bits of the chain run as its own pass');
});

test(`a 5x5 depthwise conv with SiLU (the chain reads the conv's output twice) and a per-channel Add as its tail (seed ${rng.seed})`, async () => {
  const c: ConvCase = { x: [2, 48, 45, 47], cout: 48, k: 5, group: 48 };
  const tail: WriterNode[] = [
    { opType: 'Sigmoid', inputs: ['y'], outputs: ['sg'] },
    { opType: 'Mul', inputs: ['y', 'sg'], outputs: ['silu'] },
    { opType: 'Add', inputs: ['silu', 'b1'], outputs: ['z'] },
  ];
  const inits = { ...convInits(c), b1: perChannel(c.cout, -1, 1) };
  const feeds = { x: tensor(c.x, -3, 3) };
  const bytes = model(c, tail, inits);
  await expectSameOnThreads(bytes, feeds, rng.seed, { rtol: 1e-5, atol: 1e-5, split: true, unfusedSteps: 1 });
  const ownPass = await wasmRun(model(c, tail, inits, true), feeds);
  const tailed = await wasmRun(bytes, feeds);
  assert.ok(tailed.z.every((v, i) => Object.is(v, ownPass.z[i])), 'the tail gives the bits of the chain run as its own pass');
});

test(`a chain whose operand is computed after the conv runs as its own pass, right (seed ${rng.seed})`, async () => {
  const c: ConvCase = { x: [1, 8, 19, 23], cout: 12, k: 3, group: 1 };
  const tail: WriterNode[] = [
    { opType: 'Neg', inputs: ['y'], outputs: ['q'] },
    { opType: 'Mul', inputs: ['y', 's1'], outputs: ['m'] },
    { opType: 'Add', inputs: ['m', 'q'], outputs: ['z'] },
  ];
  const bytes = model(c, tail, { ...convInits(c), s1: perChannel(c.cout, -2, 2) });
  const feeds = { x: tensor(c.x, -3, 3) };
  await expectSameOnThreads(bytes, feeds, rng.seed, { rtol: 1e-5, atol: 1e-5 });
  const run = await wasmRun(bytes, feeds);
  const add = run.ops.lastIndexOf('Add');
  assert.equal(run.fusedInto[add], undefined, `the chain's last step runs the chain: ${run.ops.join(', ')} / ${run.fusedInto.join(', ')}`);
});

test(`a value born and dead between the conv and its tail's last step does not take the tail's output bytes (seed ${rng.seed})`, async () => {
  // plan order: Conv, Neg(x2) -> t (read twice, so no chain takes it), Mul(t, t) -> u, then the
  // tail Abs, Mul, Add (Abs first: a Mul right after the conv would fold into its weights): t lives
  // between the conv and the Add and has z's size, so an arena that thought z was born at the Add
  // would give t z's bytes, and Neg would overwrite what the conv's tail wrote
  const c: ConvCase = { x: [1, 6, 17, 21], cout: 6, k: 3, group: 1 };
  const ydims = [1, 6, 17, 21];
  const tail: WriterNode[] = [
    { opType: 'Neg', inputs: ['x2'], outputs: ['t'] },
    { opType: 'Mul', inputs: ['t', 't'], outputs: ['u'] },
    { opType: 'Abs', inputs: ['y'], outputs: ['ab'] },
    { opType: 'Mul', inputs: ['ab', 's1'], outputs: ['m'] },
    { opType: 'Add', inputs: ['m', 'b1'], outputs: ['z'] },
  ];
  const inits = { ...convInits(c), s1: perChannel(c.cout, -2, 2), b1: perChannel(c.cout, -1, 1) };
  const bytes = encodeOnnxModel({
    nodes: [{ opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }, ...tail],
    inputs: [{ name: 'x', dtype: 'float32', dims: [...c.x] }, { name: 'x2', dtype: 'float32', dims: ydims }],
    outputs: [{ name: 'z', dtype: 'float32' }, { name: 'u', dtype: 'float32' }],
    initializers: inits,
    opsets: { '': 17 },
  });
  const feeds = { x: tensor(c.x, -3, 3), x2: tensor(ydims, -3, 3) };
  const ref = await InferenceSession.create(bytes, { executionProviders: [{ name: 'js', reference: true }] });
  const want = await ref.run(feeds);
  await ref.release();
  const s = await InferenceSession.create(bytes, { executionProviders: [{ name: 'wasm', numThreads: 1 }] });
  try {
    const got = await s.run(feeds);
    const steps = s.lastPlacement!.steps;
    assert.deepEqual(steps.map((st) => st.opType), ['Conv', 'Neg', 'Mul', 'Abs', 'Mul', 'Add'], 'plan order');
    assert.deepEqual(steps.map((st) => st.fusedInto !== undefined), [false, false, false, true, true, true], 'the tail is fused into the conv');
    for (const k of ['z', 'u']) assert.equal(compareTensors(got[k]!, want[k]!, { rtol: 1e-5, atol: 1e-5 }), undefined, `${k} (seed ${rng.seed})`);
  } finally {
    await s.release();
  }
});
