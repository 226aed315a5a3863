// The WebGPU QDQ fusion (runtime/graph/passes/fuse-qdq-webgpu.ts): the QuantizeLinear before and the
// QLinearAdd / QLinearLookup / DequantizeLinear after a QLinearConv move into it. With the fake-quantization
// folds of fuse-elementwise.ts the int8 MobileNetV3-like model then needs 0-1 dispatches more than its float
// twin (59 before), and gives exactly the unfused WebGPU graph's answers (and, on js, the unfused references').
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attributes } from '../../core/attributes.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { testRng } from '../helpers/random.ts';
import { qdqMatMulModel } from '../helpers/qdq-matmul.ts';
import { loadLazyGroup } from '../../kernels/lazy-families.ts';
import { DQ_SCALE_ATTR, DQ_ZERO_POINT_ATTR, LOOKUP_ATTR, MAX_DQ_BIAS, QUANTIZE_X_ATTR } from '../../kernels/qlinear-conv/fused-io-attrs.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { Graph } from '../../runtime/graph/ir.ts';
import { fuseElementwise } from '../../runtime/graph/passes/fuse-elementwise.ts';
import { fuseQdqWebgpu } from '../../runtime/graph/passes/fuse-qdq-webgpu.ts';
import { optimizeForBackend, optimizeGraph } from '../../runtime/graph/passes/optimize.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { toWriterModel } from '../../trainer-node/compress/onnx-to-writer.ts';
import { buildMobileNet, floatModel, MOBILENET_INPUT } from '../helpers/mobilenet-qdq.ts';
import { buildParityModel, parityInputs } from '../helpers/qdq-parity.ts';
import '../../runtime/graph/passes/qdq-lowering.ts'; // optimizeGraph needs it loaded, as a session loads it (loadGraphPassesFor)

const SEED = 5;

/** The graph as ONNX bytes, to load with graphOptimizationLevel 'disabled' (runs exactly these nodes). */
function encodeGraph(bytes: Uint8Array, graph: Graph): Uint8Array {
  const m = readOnnxModel(bytes);
  return encodeOnnxModel({ ...toWriterModel(m, graph, new Map()), opsets: { '': 13, 'com.microsoft': 1, kiln: 1 } });
}

async function runAll(bytes: Uint8Array, ep: 'webgpu' | 'js', inputs: readonly Float32Array[]): Promise<{ out: Float32Array[]; dispatches: number | undefined; ops: string[] }> {
  const s = await InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'disabled' });
  const out: Float32Array[] = [];
  for (const x of inputs) out.push((await s.run({ x: new Tensor('float32', x, [...MOBILENET_INPUT]) }))[s.outputNames[0]!]!.data as Float32Array);
  const p = s.lastPlacement!;
  if (ep === 'webgpu') assert.equal(p.cpu, 0, 'every step on the GPU');
  await s.release();
  return { out, dispatches: p.dispatches, ops: p.steps.map((st) => st.opType) };
}

test('QDQ MobileNetV3-like on WebGPU: Q / QLinearLookup / DQ fold into QLinearConv, same answers as the unfused graph', async () => {
  await loadLazyGroup('quantized');
  const qdq = (await buildParityModel(SEED)).qdq;
  const model = readOnnxModel(qdq);
  const lowered = optimizeGraph(model);
  const fusedGraph: Graph = { ...lowered, initializers: new Map(lowered.initializers), nodes: [...lowered.nodes] };
  fuseQdqWebgpu(fusedGraph);
  const count = (g: Graph, op: string): number => g.nodes.filter((n) => n.opType === op).length;
  // before: 9 lookups, 7 Q, 7 DQ between the convs; after: none of them
  assert.deepEqual(['QLinearLookup', 'QuantizeLinear', 'DequantizeLinear', 'QLinearAdd'].map((op) => count(lowered, op)), [9, 7, 7, 3]);
  assert.deepEqual(['QLinearLookup', 'QuantizeLinear', 'DequantizeLinear', 'QLinearAdd'].map((op) => count(fusedGraph, op)), [0, 0, 0, 0]);
  assert.equal(count(fusedGraph, 'QLinearConv'), count(lowered, 'QLinearConv'));
  // the classifier's QuantizeDequantize after Reshape(QuantizeDequantize(pool)) with the same parameters: dropped
  assert.deepEqual([count(lowered, 'QuantizeDequantize'), count(fusedGraph, 'QuantizeDequantize')], [3, 2]);

  const inputs = parityInputs(SEED, 4);
  const [unfusedBytes, fusedBytes] = [encodeGraph(qdq, lowered), encodeGraph(qdq, fusedGraph)];
  for (const ep of ['webgpu', 'js'] as const) {
    const plain = await runAll(unfusedBytes, ep, inputs);
    const fused = await runAll(fusedBytes, ep, inputs);
    // the fused graph really ran (not the unfused one under another name)
    assert.equal(fused.ops.filter((o) => o === 'QLinearLookup').length, 0);
    assert.equal(plain.ops.filter((o) => o === 'QLinearLookup').length, 9);
    assert.deepEqual([fused, plain].map((r) => r.ops.filter((o) => o === 'QLinearAdd').length), [0, 3]);
    for (let i = 0; i < inputs.length; i++) assert.deepEqual(fused.out[i], plain.out[i], `${ep}: input ${i} differs from the unfused graph`);
    // 26 ops folded and 1 QuantizeDequantize dropped, each one dispatch less; a folded QuantizeLinear
    // whose x the conv reads many times runs as a program of its own inside the conv's step
    // (kernels/qlinear-conv/webgpu.ts: the model input, depending on the adapter's tile), so 26 or 27 fewer
    if (ep === 'webgpu') assert.ok(fused.dispatches! <= plain.dispatches! - 26 && fused.dispatches! >= plain.dispatches! - 27, `${fused.dispatches} vs ${plain.dispatches} unfused`);
  }
});

test('the WebGPU session of the int8 MobileNetV3-like model runs the fused graph: 30-31 dispatches (59 unfused, float twin 30)', async () => {
  const qdq = (await buildParityModel(SEED)).qdq;
  const m = readOnnxModel(qdq);
  const gpuOps = optimizeForBackend(m, optimizeGraph(m), 'webgpu').nodes.map((n) => n.opType);
  assert.ok(!['QLinearLookup', 'QuantizeLinear', 'DequantizeLinear', 'QLinearAdd'].some((op) => gpuOps.includes(op)), gpuOps.join(' '));
  // wasm has its own folds (int8-cnn: tables into the integer GEMM's epilogue), not these: the input's
  // QuantizeLinear stays a separate step there
  assert.ok(optimizeForBackend(m, optimizeGraph(m), 'wasm').nodes.some((n) => n.opType === 'QuantizeLinear'));
  const dispatches = async (bytes: Uint8Array): Promise<number> => {
    const s = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
    await s.run({ x: new Tensor('float32', parityInputs(SEED, 1)[0]!, [...MOBILENET_INPUT]) });
    const d = s.lastPlacement!.dispatches!;
    await s.release();
    return d;
  };
  const [int8, f32] = [await dispatches(qdq), await dispatches(floatModel(buildMobileNet(SEED), false))];
  console.log(`MobileNetV3-like WebGPU dispatches per run: int8 ${int8}, float ${f32}`);
  // 59 unfused. What is left over the float twin: the input's quantization when it runs as a program
  // of its own (0 or 1 by the adapter's tile: kernels/qlinear-conv/webgpu.ts). The residual QLinearAdds
  // go into their convs' stores as the float twin's Adds go into its Conv epilogues; the fake
  // quantizations after GlobalAveragePool and the classifier into their stores (fake-quant-fusion.test.ts).
  assert.ok(int8 === 30 || int8 === 31, `int8 ${int8} dispatches (float twin ${f32})`);
  assert.equal(f32, 30, 'float twin');
});

test('the squeeze-excite Muls store their QLinearConv\'s integers (a final QuantizeLinear) instead of the conv quantizing on every load: same answers', async () => {
  await loadLazyGroup('quantized');
  const qdq = (await buildParityModel(SEED)).qdq;
  const m = readOnnxModel(qdq);
  const lowered = optimizeGraph(m);
  const onLoad: Graph = { ...lowered, initializers: new Map(lowered.initializers), nodes: [...lowered.nodes] };
  fuseQdqWebgpu(onLoad);
  const stored = optimizeForBackend(m, lowered, 'webgpu');
  const quantizing = stored.nodes.filter((n) => n.opType === 'FusedElementwise' && n.attrs.int('output_dtype', 0) !== 0);
  // the three squeeze-excite blocks: Mul(features, excitation) -> QuantizeLinear -> the projection conv
  assert.deepEqual(quantizing.map((n) => n.attrs.strings('steps')!.map((t) => t.split(' ')[0])), [['Mul', 'QuantizeLinear'], ['Mul', 'QuantizeLinear'], ['Mul', 'QuantizeLinear']]);
  assert.ok(quantizing.every((n) => n.attrs.int('output_dtype', 0) === 2), 'uint8, the convs\' x_zero_point type');
  for (const n of quantizing) {
    const readers = stored.nodes.filter((c) => c.inputs.includes(n.outputs[0]!));
    assert.deepEqual(readers.map((c) => [c.opType, c.inputs.indexOf(n.outputs[0]!), c.attrs.has('kiln_quantize_x')]), [['QLinearConv', 0, false]]);
  }
  // before this fold the same convs quantized their float x on load
  assert.equal(onLoad.nodes.filter((n) => n.opType === 'QLinearConv' && n.attrs.int('kiln_quantize_x', 0) === 1).length, 7, 'three after Muls, three after GlobalAveragePools, the model input');
  assert.equal(stored.nodes.filter((n) => n.opType === 'QLinearConv' && n.attrs.int('kiln_quantize_x', 0) === 1).length, 4, 'the pools\' and the input\'s convs still quantize on load');
  const inputs = parityInputs(SEED, 3);
  const [onLoadBytes, storedBytes] = [encodeGraph(qdq, onLoad), encodeGraph(qdq, stored)];
  for (const ep of ['webgpu', 'js'] as const) {
    const [a, b] = [await runAll(onLoadBytes, ep, inputs), await runAll(storedBytes, ep, inputs)];
    assert.equal(b.ops.filter((o) => o === 'FusedElementwise').length >= 3, true, 'the stored form ran');
    for (let i = 0; i < inputs.length; i++) assert.deepEqual(b.out[i], a.out[i], `${ep}: input ${i}`);
    assert.ok(new Set(a.out[0]).size > 8, 'outputs spread over the grid');
  }
});

test('a QLinearConv that stores a float lookup table\'s values (HardSigmoid: PaddleOCR cls\'s excitation) is float32 to the fusion: its Mul stores integers too', () => {
  const f = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const u8 = (v: number): Tensor<'uint8'> => new Tensor('uint8', Uint8Array.of(v), []);
  const conv = (name: string, x: string, y: string, attrs: Attributes) => ({ name, opType: 'QLinearConv', domain: '', inputs: [x, 's', 'z', 'w', 'ws', 'wz', 's', 'z'], outputs: [y], attrs });
  const table = new Tensor('float32', Float32Array.from({ length: 256 }, (_, i) => Math.min(1, Math.max(0, (i - 128) / 40 + 0.5))), [256]);
  const graph = (lookup: AnyTensor): Graph => ({
    nodes: [
      conv('features', 'x', 'r', Attributes.empty().with(DQ_SCALE_ATTR, f(0.05)).with(DQ_ZERO_POINT_ATTR, u8(128))),
      conv('excitation', 'x', 'h', Attributes.empty().with(LOOKUP_ATTR, lookup)),
      { name: 'scale', opType: 'Mul', domain: '', inputs: ['r', 'h'], outputs: ['m'], attrs: Attributes.empty() },
      conv('project', 'm', 'y', Attributes.empty().with(QUANTIZE_X_ATTR, 1)),
    ],
    initializers: new Map<string, AnyTensor>([['s', f(0.05)], ['z', u8(128)], ['w', new Tensor('int8', new Int8Array(4), [4, 1, 1, 1])], ['ws', f(0.01)], ['wz', new Tensor('int8', Int8Array.of(0), [])]]),
    inputs: [{ name: 'x', dtype: 'uint8', dims: [1, 1, 4, 4] }],
    outputs: [{ name: 'y', dtype: 'uint8', dims: [1, 4, 4, 4] }],
    valueInfo: new Map(),
  });
  const fused = (lookup: AnyTensor): string[] => {
    const g = graph(lookup);
    fuseElementwise(g, 13);
    return g.nodes.map((n) => `${n.opType}${n.attrs.int('output_dtype', 0) ? `->${n.attrs.int('output_dtype', 0)}` : ''}${n.attrs.int(QUANTIZE_X_ATTR, 0) ? '(quantize x)' : ''}`);
  };
  assert.deepEqual(fused(table), ['QLinearConv', 'QLinearConv', 'FusedElementwise->2', 'QLinearConv']);
  // a table of integers (an 8-bit activation) is not a float operand: the Mul stays, the conv quantizes on load
  const intTable = new Tensor('uint8', Uint8Array.from({ length: 256 }, (_, i) => i), [256]);
  assert.deepEqual(fused(intTable), ['QLinearConv', 'QLinearConv', 'Mul', 'QLinearConv(quantize x)']);
});

for (const withBias of [false, true]) test(`QDQ MatMul (a classifier head)${withBias ? ' with a bias Add after the DQ' : ''}: Q -> QLinearMatMul -> DQ${withBias ? ' -> Add' : ''} is one WebGPU step, same answers as unfused`, async () => {
  await loadLazyGroup('quantized');
  const [M, K, N] = [2, 24, 10];
  const rnd = (n: number, scale: number): Float32Array => Float32Array.from(parityInputs(SEED, 1)[0]!.subarray(0, n), (v) => v * scale);
  const w = rnd(K * N, 0.2);
  const bytes = qdqMatMulModel(w, M, K, N, { x: [4 / 255, 128], y: [6 / 255, 120] }, withBias ? rnd(N, 3) : undefined);
  const m = readOnnxModel(bytes);
  const lowered = optimizeGraph(m);
  assert.deepEqual(lowered.nodes.map((n) => n.opType), ['QuantizeLinear', 'QLinearMatMul', 'DequantizeLinear', ...(withBias ? ['Add'] : [])]);
  assert.deepEqual(optimizeForBackend(m, lowered, 'webgpu').nodes.map((n) => n.opType), ['QLinearMatMul']);
  const fusedGraph: Graph = { ...lowered, initializers: new Map(lowered.initializers), nodes: [...lowered.nodes] };
  fuseQdqWebgpu(fusedGraph);
  const x = new Tensor('float32', rnd(M * K, 2), [M, K]);
  const run = async (model: Uint8Array, ep: 'webgpu' | 'js'): Promise<{ y: Float32Array; ops: string[] }> => {
    const s = await InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'disabled' });
    const y = (await s.run({ x })).y!.data as Float32Array;
    const ops = s.lastPlacement!.steps.map((st) => st.opType);
    await s.release();
    return { y, ops };
  };
  const [plainBytes, fusedBytes] = [encodeGraph(bytes, lowered), encodeGraph(bytes, fusedGraph)];
  for (const ep of ['webgpu', 'js'] as const) {
    const [plain, fused] = [await run(plainBytes, ep), await run(fusedBytes, ep)];
    assert.deepEqual(fused.ops, ['QLinearMatMul']);
    assert.deepEqual(fused.y, plain.y, ep);
    assert.ok(plain.y.some((v) => v !== 0), 'a non-trivial output');
  }
});

test('a head wider than the store\'s bias uniforms (PP-OCR rec: 6625 classes) keeps its Add a step of its own', async () => {
  await loadLazyGroup('quantized');
  const [K, N] = [8, MAX_DQ_BIAS + 1];
  const w = Float32Array.from({ length: K * N }, (_, i) => ((i * 37) % 17) / 17 - 0.5);
  const m = readOnnxModel(qdqMatMulModel(w, 1, K, N, { x: [4 / 255, 128], y: [6 / 255, 120] }, new Float32Array(N).fill(0.25)));
  assert.deepEqual(optimizeForBackend(m, optimizeGraph(m), 'webgpu').nodes.map((n) => n.opType), ['QLinearMatMul', 'Add']);
});

test('a QuantizeDequantize is dropped only after one with the same constant parameters (through views)', async () => {
  await loadLazyGroup('quantized'); // as in a session: the lowering's lookup-table folds run too
  const scalar = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const graphWith = (zp2: number, view: string, scale2 = 0.037): Graph => {
    const bytes = encodeOnnxModel({
      nodes: [
        { opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q1'] },
        { opType: 'DequantizeLinear', inputs: ['q1', 's', 'z'], outputs: ['d1'] },
        { opType: view, inputs: view === 'Reshape' ? ['d1', 'shape'] : ['d1'], outputs: ['v'] },
        { opType: 'QuantizeLinear', inputs: ['v', 's2', 'z2'], outputs: ['q2'] },
        { opType: 'DequantizeLinear', inputs: ['q2', 's2', 'z2'], outputs: ['d2'] },
        // a float reader (a unary op there would become a lookup table with the quantized ops loaded)
        { opType: 'Add', inputs: ['d2', 'x'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3, 1, 1] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: { s: scalar(0.037), s2: scalar(scale2), z: new Tensor('uint8', Uint8Array.of(131), []), z2: new Tensor('uint8', Uint8Array.of(zp2), []), shape: new Tensor('int64', BigInt64Array.of(2n, 3n), [2]) },
      opsets: { '': 13 },
    });
    const g = optimizeGraph(readOnnxModel(bytes));
    fuseQdqWebgpu(g);
    return g;
  };
  const qdqs = (g: Graph): number => g.nodes.filter((n) => n.opType === 'QuantizeDequantize').length;
  assert.equal(qdqs(graphWith(131, 'Reshape')), 1);
  assert.equal(qdqs(graphWith(131, 'Flatten')), 1);
  assert.equal(qdqs(graphWith(130, 'Reshape')), 2, 'another zero point: a different grid');
  assert.equal(qdqs(graphWith(131, 'Reshape', 0.0371)), 2, 'another scale: a different grid');
});

test('QLinearConv -> QLinearAdd folds into the conv on either side, after a residual computed later; a broadcasting residual runs js', async () => {
  await loadLazyGroup('quantized');
  const rng = testRng(import.meta.url);
  const u8 = (n: number, lo = 0, hi = 256): Uint8Array => Uint8Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo)));
  const i8 = (n: number): Int8Array => Int8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256) - 128);
  const f = (v: number): Tensor<'float32'> => new Tensor('float32', Float32Array.of(v), []);
  const z = (v: number): Tensor<'uint8'> => new Tensor('uint8', Uint8Array.of(v), []);
  const [C, H, W] = [6, 5, 7];
  // conv on side `side` of the add; the residual is made by a QLinearConv listed after the main conv
  // (1x1, same shape), or is a per-channel [1, C, 1, 1] input (broadcasting)
  const model = (side: 0 | 1, broadcast: boolean): Uint8Array => {
    const conv = (x: string, w: string, y: string, ys: string, yz: string) => ({ opType: 'QLinearConv', inputs: [x, 'xs', 'xz', w, 'ws', 'wz', ys, yz, 'b'], outputs: [y], attrs: { pads: [1, 1, 1, 1], kiln_ort_requant: 1 } });
    const res = broadcast ? 'r' : 'yr';
    const ops = [conv('x', 'w', 'y', 'ys', 'yz'), ...(broadcast ? [] : [{ ...conv('x', 'w2', 'yr', 'rs', 'rz') }])];
    const sides = side === 0 ? ['y', 'ys', 'yz', res, 'rs', 'rz'] : [res, 'rs', 'rz', 'y', 'ys', 'yz'];
    return encodeOnnxModel({
      nodes: [...ops, { opType: 'QLinearAdd', domain: 'com.microsoft', inputs: [...sides, 'cs', 'cz'], outputs: ['c'] }, { opType: 'DequantizeLinear', inputs: ['c', 'cs', 'cz'], outputs: ['out'] }],
      inputs: [{ name: 'x', dtype: 'uint8', dims: [1, C, H, W] }, ...(broadcast ? [{ name: 'r', dtype: 'uint8' as const, dims: [1, C, 1, 1] }] : [])],
      outputs: [{ name: 'out', dtype: 'float32' }],
      initializers: {
        xs: f(0.02), xz: z(128), w: new Tensor('int8', i8(C * C * 9), [C, C, 3, 3]), w2: new Tensor('int8', i8(C * C * 9), [C, C, 3, 3]),
        ws: new Tensor('float32', Float32Array.from({ length: C }, (_, i) => 0.002 + i * 0.001), [C]), wz: new Tensor('int8', new Int8Array(C), [C]),
        b: new Tensor('int32', Int32Array.from({ length: C }, (_, i) => i * 37 - 90), [C]),
        ys: f(0.07), yz: z(121), rs: f(0.05), rz: z(133), cs: f(0.09), cz: z(126),
      },
      opsets: { '': 13, 'com.microsoft': 1 },
    });
  };
  for (const [side, broadcast] of [[0, false], [1, false], [0, true]] as const) {
    const bytes = model(side, broadcast);
    const m = readOnnxModel(bytes);
    const plainGraph = optimizeGraph(m);
    const fusedGraph: Graph = { ...plainGraph, initializers: new Map(plainGraph.initializers), nodes: [...plainGraph.nodes] };
    fuseQdqWebgpu(fusedGraph);
    const ops = fusedGraph.nodes.map((n) => n.opType);
    assert.ok(!ops.includes('QLinearAdd'), `side ${side}: ${ops.join(' ')}`);
    const feeds = { x: new Tensor('uint8', u8(C * H * W), [1, C, H, W]), ...(broadcast ? { r: new Tensor('uint8', u8(C), [1, C, 1, 1]) } : {}) };
    const run = async (g: Graph, ep: 'webgpu' | 'js'): Promise<{ y: Float32Array; cpu: number }> => {
      const s = await InferenceSession.create(encodeGraph(bytes, g), { executionProviders: [ep], graphOptimizationLevel: 'disabled' });
      const y = (await s.run(feeds)).out!.data as Float32Array;
      const cpu = s.lastPlacement!.cpu;
      await s.release();
      return { y, cpu };
    };
    const reference = await run(plainGraph, 'js');
    assert.ok(new Set(reference.y).size > 10, 'outputs spread over the grid');
    for (const ep of ['webgpu', 'js'] as const) {
      const fused = await run(fusedGraph, ep);
      assert.deepEqual(fused.y, reference.y, `side ${side}, broadcast ${broadcast}, ${ep}`);
      // same shapes: every step on the GPU; a broadcasting residual: the fused conv runs its js form
      if (ep === 'webgpu') assert.equal(fused.cpu, broadcast ? 1 : 0);
    }
  }
});
