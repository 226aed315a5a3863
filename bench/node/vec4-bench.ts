// `node --import tsx bench/node/vec4-bench.ts [reps] [add sizes] [matmul sizes]`: the scalar and vec4 forms of the same
// kernels side by side on this machine's WebGPU adapter (SwiftShader when VK_ICD_FILENAMES points at
// it): an elementwise Add (ShaderBuilder.elementwise) and the tiled MatMul with hardware tiles.
// Each rep encodes `DISPATCHES` dispatches of one program in one pass and waits for the queue; forms
// are interleaved rep by rep so machine noise hits both; medians are printed. Bytes moved are the
// same in both forms (every element read and written once): the vec4 form issues a quarter of the
// load/store instructions. One dispatch per op in both forms (the dispatch counts do not change).
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import '../../runtime/node.ts'; // registers the webgpu package's navigator.gpu
import { createGpuDevice } from '../../runtime/backends/webgpu/gpu-device.ts';
import { ShaderBuilder } from '../../kernels/webgpu/shader-builder.ts';
import { chooseTiles, tiledMatmulProgram, type MatmulTiles } from '../../kernels/webgpu/tiled-matmul.ts';
import type { GpuCaps, GpuProgram } from '../../kernels/webgpu/contract.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const reps = Math.max(5, Number(process.argv[2] ?? 9));
const DISPATCHES = 4;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ctx = await createGpuDevice();
const { device, caps } = ctx;

function addProgram(n: number, vec4: boolean, c: GpuCaps): GpuProgram {
  const b = new ShaderBuilder(c);
  const A = b.input('A', { dtype: 'float32', dims: [n] }, 0);
  const B = b.input('B', { dtype: 'float32', dims: [n] }, 1);
  const Y = b.output('Y', { dtype: 'float32', dims: [n] });
  const ew = b.elementwise({ out: Y, count: n, operands: [{ name: 'a', tensor: A }, { name: 'b', tensor: B }], value: 'a + b', allowVec4: vec4 });
  return b.build({ label: `add${vec4 ? '/vec4' : ''}`, body: ew.body, totalInvocations: ew.invocations });
}

function matmulProgram(n: number, vec4: boolean, c: GpuCaps, tiles: MatmulTiles = { tm: 4, tn: 4, threads: 64, quad: false }): GpuProgram {
  const op = (slot: number) => ({ meta: { dtype: 'float32' as const, dims: [n, n] }, slot, batchStrides: [], rowStride: n, colStride: 1 });
  return tiledMatmulProgram({ label: 'mm', M: n, N: n, K: n, batchDims: [], a: op(0), b: op(1), out: { dtype: 'float32', dims: [n, n] }, allowVec4: vec4 }, c, tiles);
}

/** Pipeline and bind group for a program whose bindings are inputs 0..k-1 then output 0, each `bytes` long. */
async function prepare(program: GpuProgram, bytes: number): Promise<(pass: GPUComputePassEncoder) => void> {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const buffers = program.bindings.map(() => device.createBuffer({ size: bytes, usage }));
  for (const buf of buffers) device.queue.writeBuffer(buf, 0, Float32Array.from({ length: bytes / 4 }, (_, i) => (i % 97) / 97));
  const uniforms = device.createBuffer({ size: program.uniforms.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniforms, 0, new Uint32Array(program.uniforms));
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: program.shader }), entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [...buffers, uniforms].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  return (pass) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...program.dispatch);
  };
}

async function time(record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const t0 = performance.now();
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (let i = 0; i < DISPATCHES; i++) record(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / DISPATCHES;
}

interface Workload { name: string; bytes: number; flops?: number; forms: Record<'scalar' | 'vec4', GpuProgram>; bufferBytes: number }
const workloads: Workload[] = [];
for (const n of (process.argv[3] ?? '1048576,4194304').split(',').map(Number)) {
  workloads.push({ name: `Add ${n} f32`, bytes: 3 * 4 * n, bufferBytes: 4 * n, forms: { scalar: addProgram(n, false, caps), vec4: addProgram(n, true, caps) } });
}
for (const n of (process.argv[4] ?? '256,512').split(',').map(Number)) {
  // bytes: A and B read once each and Y written once (the minimum; tiles re-read from caches)
  workloads.push({ name: `MatMul ${n}^3 f32 (4x4 hardware tiles)`, bytes: 3 * 4 * n * n, flops: 2 * n ** 3, bufferBytes: 4 * n * n, forms: { scalar: matmulProgram(n, false, caps), vec4: matmulProgram(n, true, caps) } });
}

// What 'auto' picks on this adapter (SwiftShader: quad-shared 16x8 tiles, scalar loads) against the
// vec4 form with the same 16x8 tiles per thread and no quad sharing ("scalar" row = the auto form).
if (caps.software && caps.subgroups) {
  const n = 512;
  workloads.push({ name: `MatMul ${n}^3 auto quad vs vec4 16x8`, bytes: 3 * 4 * n * n, flops: 2 * n ** 3, bufferBytes: 4 * n * n, forms: { scalar: matmulProgram(n, true, caps, chooseTiles(n, n, caps)), vec4: matmulProgram(n, true, caps, { ...chooseTiles(n, n, caps), quad: false }) } });
}

console.log(`adapter: ${ctx.info}; ${DISPATCHES} dispatches per rep, ${reps} reps, medians per dispatch`);
for (const w of workloads) {
  const run = { scalar: await prepare(w.forms.scalar, w.bufferBytes), vec4: await prepare(w.forms.vec4, w.bufferBytes) };
  const times: Record<'scalar' | 'vec4', number[]> = { scalar: [], vec4: [] };
  for (const form of ['scalar', 'vec4'] as const) await time(run[form]); // warm-up (JIT)
  for (let r = 0; r < reps; r++) for (const form of ['scalar', 'vec4'] as const) times[form].push(await time(run[form]));
  const m = { scalar: median(times.scalar), vec4: median(times.vec4) };
  for (const form of ['scalar', 'vec4'] as const) {
    const rate = w.flops ? `${(w.flops / m[form] / 1e6).toFixed(2)} GFLOP/s` : `${(w.bytes / m[form] / 1e6).toFixed(2)} GB/s`;
    console.log(`${w.name.padEnd(36)} ${form.padEnd(6)} ${m[form].toFixed(2).padStart(9)} ms  ${(w.bytes / 2 ** 20).toFixed(1)} MiB moved  ${rate}  1 dispatch`);
  }
  console.log(`${w.name.padEnd(36)} scalar/vec4 time ratio ${(m.scalar / m.vec4).toFixed(2)}`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
device.destroy();
process.exit(0);
