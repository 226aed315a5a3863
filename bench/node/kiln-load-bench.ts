// `node --import tsx bench/node/kiln-load-bench.ts [layers] [MB/s]`: loading a model of
// `layers` float32 512x512 MatMuls (1 MiB each, default 16) as ONNX and as .kiln. (1) parsing bytes
// already in memory; (2) cold start of a WebGPU session from an http URL served at a fixed rate
// (default 8 MB/s), where .kiln checks its header, starts the device and uploads weights during the
// download; (3) memory the loaded weights take beyond the file bytes. Medians of 5.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { readKilnBundle } from '../../runtime/format/kiln/kiln-reader.ts';
import { encodeKilnBundle } from '../../runtime/format/kiln/kiln-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import { encodeOnnxModel, type WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const layers = Number(process.argv[2] ?? 16);
const rate = Number(process.argv[3] ?? 8) * 1e6;
const N = 512;

function model(): WriterModel {
  const initializers: Record<string, AnyTensor> = {};
  const nodes: WriterModel['nodes'][number][] = [];
  let x = 'x';
  for (let i = 0; i < layers; i++) {
    initializers[`w${i}`] = new Tensor('float32', Float32Array.from({ length: N * N }, () => (Math.random() * 2 - 1) / N), [N, N]);
    nodes.push({ opType: 'MatMul', inputs: [x, `w${i}`], outputs: [`h${i}`] });
    x = `h${i}`;
  }
  nodes.push({ opType: 'Relu', inputs: [x], outputs: ['y'] });
  return { nodes, initializers, inputs: [{ name: 'x', dtype: 'float32', dims: [1, N] }], outputs: [{ name: 'y', dtype: 'float32' }] };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(f: () => Promise<unknown> | unknown, runs = 5): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** Serves files at `rate` bytes/s in 64 KiB pieces. */
async function throttledServer(files: Record<string, Uint8Array>): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' });
    let at = 0;
    const piece = 64 << 10;
    const tick = (): void => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + piece));
      at += piece;
      setTimeout(tick, (piece / rate) * 1000);
    };
    tick();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const m = model();
const onnx = encodeOnnxModel(m);
const kiln = await encodeKilnBundle(m, {});
console.log(`model: ${layers} x MatMul ${N}x${N} float32; ONNX ${(onnx.length / 1e6).toFixed(2)} MB, .kiln ${(kiln.length / 1e6).toFixed(2)} MB`);
console.log(`parse in memory: ONNX ${(await time(() => readOnnxModel(onnx))).toFixed(1)} ms, .kiln ${(await time(() => readKilnBundle(kiln))).toFixed(1)} ms (incl. SHA-256 of every section)`);

// Memory: the file bytes plus what the model's weights live in. ONNX copies each weight out of the
// file (two copies until the file bytes are dropped); .kiln weights are views into the file.
for (const [name, bytes] of [['ONNX', onnx], ['.kiln', kiln]] as const) {
  const loaded = name === 'ONNX' ? readOnnxModel(bytes) : (await readKilnBundle(bytes)).model;
  const buffers = new Set([...loaded.graph.initializers.values()].map((t) => (t.data as Float32Array).buffer));
  const own = [...buffers].filter((b) => b !== bytes.buffer).reduce((n, b) => n + b.byteLength, 0);
  console.log(`${name}: weights in ${buffers.size} buffer(s); beyond the file bytes the model holds ${(own / 1e6).toFixed(2)} MB (peak while loading: ${((bytes.length + own) / 1e6).toFixed(2)} MB)`);
}

const server = await throttledServer({ '/m.onnx': onnx, '/m.kiln': kiln });
try {
  for (const [name, path, bytes] of [['ONNX', '/m.onnx', onnx], ['.kiln', '/m.kiln', kiln]] as const) {
    // Issue 14 item 4 aims at ready within 1.1x of the download: the download is measured through the
    // same server (its pacing has overhead), and the work left if nothing overlapped it is a session from memory.
    const download = await time(async () => new Uint8Array(await (await fetch(`${server.url}${path}`)).arrayBuffer()));
    const fromMemory = await time(async () => {
      const s = await InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
      await s.release();
    });
    const ms = await time(async () => {
      const s = await InferenceSession.create(`${server.url}${path}`, { executionProviders: ['webgpu'] });
      await s.release();
    });
    console.log(`cold start from http at ${rate / 1e6} MB/s, ${name}: download alone ${download.toFixed(0)} ms (nominal ${((bytes.length / rate) * 1000).toFixed(0)}), session from memory ${fromMemory.toFixed(0)} ms, WebGPU session ready from the URL ${ms.toFixed(0)} ms = ${(ms / download).toFixed(2)}x the download`);
  }
} finally {
  server.close();
}
