// `node --import tsx bench/node/wasm-last-ops-bench.ts [runs]`: the ops that ran js in wasm sessions
// until the wasm-ops branch (1-byte Transpose, float16 Cast, int64 Add, GatherND), one node each, on
// the wasm backend (1 thread) beside the js backend (what those steps ran before, copies aside).
// CPU time per session.run (process.cpuUsage), medians of interleaved runs, in us.
import { loadavg } from 'node:os';
import { allocData, type DataType } from '../../core/dtype.ts';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';

const RUNS = Math.max(3, Number(process.argv[2] ?? 15));

interface Input { name: string; dtype: DataType; dims: number[]; fill: (i: number) => number }

function tensorOf(x: Input): AnyTensor {
  const data = allocData(x.dtype, x.dims.reduce((a, b) => a * b, 1));
  if (data instanceof BigInt64Array) for (let i = 0; i < data.length; i++) data[i] = BigInt(x.fill(i));
  else if (!Array.isArray(data)) for (let i = 0; i < data.length; i++) data[i] = x.fill(i);
  return new Tensor(x.dtype, data, x.dims);
}

function oneNode(op: string, inputs: Input[], attrs: Record<string, number | number[]> = {}): { model: Uint8Array; feeds: Record<string, AnyTensor> } {
  const model = encodeOnnxModel({
    nodes: [{ opType: op, inputs: inputs.map((i) => i.name), outputs: ['y'], attrs }],
    inputs: inputs.map(({ name, dtype, dims }) => ({ name, dtype, dims })),
    outputs: [{ name: 'y', dtype: 'float32' }],
  });
  return { model, feeds: Object.fromEntries(inputs.map((i) => [i.name, tensorOf(i)])) };
}

const workloads = [
  { name: 'Transpose uint8 [1,224,224,3] -> NCHW', ...oneNode('Transpose', [{ name: 'x', dtype: 'uint8', dims: [1, 224, 224, 3], fill: (i) => i & 255 }], { perm: [0, 3, 1, 2] }) },
  { name: 'Cast float16 -> float32 [1,3,224,224]', ...oneNode('Cast', [{ name: 'x', dtype: 'float16', dims: [1, 3, 224, 224], fill: (i) => 0x3c00 + (i & 1023) }], { to: 1 }) },
  { name: 'Cast float32 -> float16 [1,3,224,224]', ...oneNode('Cast', [{ name: 'x', dtype: 'float32', dims: [1, 3, 224, 224], fill: (i) => Math.sin(i) }], { to: 10 }) },
  { name: 'Add int64 [1,4096] + [1]', ...oneNode('Add', [{ name: 'x', dtype: 'int64', dims: [1, 4096], fill: (i) => i }, { name: 'b', dtype: 'int64', dims: [1], fill: () => 7 }]) },
  { name: 'GatherND [64,64,32] by [256,2]', ...oneNode('GatherND', [{ name: 'x', dtype: 'float32', dims: [64, 64, 32], fill: (i) => i }, { name: 'i', dtype: 'int64', dims: [256, 2], fill: (i) => (i * 7) % 64 }]) },
];

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(`runs ${RUNS}, load average ${loadavg()[0]!.toFixed(1)}`);
for (const w of workloads) {
  const sessions = {
    wasm: await InferenceSession.create(w.model, { executionProviders: [{ name: 'wasm', numThreads: 1 }] }),
    js: await InferenceSession.create(w.model, { executionProviders: ['js'] }),
  };
  const times: Record<string, number[]> = { wasm: [], js: [] };
  for (const s of Object.values(sessions)) await s.run(w.feeds); // plans and uploads: not timed
  for (let r = 0; r < RUNS; r++) {
    for (const [name, s] of Object.entries(sessions)) {
      const start = process.cpuUsage();
      await s.run(w.feeds);
      const d = process.cpuUsage(start);
      times[name]!.push(d.user + d.system);
    }
  }
  const ran = sessions.wasm.lastPlacement?.steps.map((s) => s.implementation).join(',');
  console.log(`${w.name}: wasm ${median(times.wasm!)} us (ran ${ran}), js ${median(times.js!)} us`);
  for (const s of Object.values(sessions)) await s.release();
}
