// `node --import tsx bench/node/linear-attention-bench.ts [runs] [lengths] [rules]`: medians of one
// LinearAttention node (opset 27; 4 heads, d_k = d_v = 64, past_state given, per-key decay, beta per
// head) prefilling T = 32/128/512 positions on Kiln WebGPU (SwiftShader when no GPU exists): the
// sequential kernel (one walk over T per state column) against the chunked one (chunks of
// LINEAR_ATTENTION_CHUNK positions, kernels/linear-attention/webgpu.ts) in its software-adapter form
// (state walk per column; forced for every rule here, though 'auto' runs it only for the gated
// rules on software adapters) and, as 'chunked/hw', in its hardware form (the state walk shared by
// a workgroup; kernelTuning 'hardware'). Each run is a full
// session.run with uploads and readback of both outputs; runs are interleaved so machine noise hits
// both forms. The load average is printed: other processes share this machine's cores.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { UPDATE_RULES } from '../../kernels/linear-attention/op.ts';
import { linearAttentionForms } from '../../kernels/linear-attention/webgpu.ts';
import { encodeOnnxModel } from '../../runtime/format/onnx/onnx-writer.ts';
import type { KernelTuning } from '../../runtime/backends/webgpu/kernel-tuning.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { makeRng } from '../../test/helpers/random.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const runs = Math.max(3, Number(process.argv[2] ?? 5));
const lengths = (process.argv[3] ?? '32,128,512').split(',').map(Number);
const rules = (process.argv[4] ?? 'gated_delta,linear').split(',');
const H = 4, D = 64;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rng = makeRng(1234);

function model(rule: string): Uint8Array {
  const names = ['q', 'k', 'v', 'past', 'decay', 'beta'];
  return encodeOnnxModel({
    nodes: [{ opType: 'LinearAttention', domain: '', inputs: names, outputs: ['y', 'state'], attrs: { q_num_heads: H, kv_num_heads: H, update_rule: rule } }],
    inputs: names.map((name) => ({ name, dtype: 'float32' as const })),
    outputs: ['y', 'state'].map((name) => ({ name, dtype: 'float32' as const })),
    opsets: { '': 27 },
  });
}

const tensor = (dims: number[], lo: number, hi: number): AnyTensor => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.range(lo, hi)), dims);

async function bench(rule: string, T: number): Promise<void> {
  const kr = Math.sqrt(3 / D);
  const feeds = {
    q: tensor([1, T, H * D], -1, 1), k: tensor([1, T, H * D], -kr, kr), v: tensor([1, T, H * D], -1, 1),
    past: tensor([1, H, D, D], -0.5, 0.5), decay: tensor([1, T, H * D], -1, 0), beta: tensor([1, T, H], 0, 1),
  };
  const bytes = model(rule);
  // the form is chosen when a session lowers the node (at its first run), under the setting of the
  // moment; it is set before every run anyway
  const forms: [string, number, KernelTuning][] = [['sequential', Infinity, 'auto'], ['chunked', 2, 'auto'], ['chunked/hw', 2, 'hardware']];
  const software = linearAttentionForms.software;
  const sessions = await Promise.all(forms.map(([, , kernelTuning]) => InferenceSession.create(bytes, { executionProviders: [{ name: 'webgpu', kernelTuning }] })));
  const run = async (i: number): Promise<void> => {
    linearAttentionForms.chunkedFrom = forms[i]![1];
    linearAttentionForms.software = UPDATE_RULES; // 'chunked' here is chunked whatever the rule
    await sessions[i]!.run(feeds);
  };
  try {
    for (const [i, s] of sessions.entries()) {
      await run(i); // warm-up: lowering, pipelines, buffers
      if ((s.lastPlacement?.cpu ?? 0) > 0) console.log(`${rule} T=${T}: webgpu fell back to the CPU`);
    }
    const times: number[][] = sessions.map(() => []);
    for (let r = 0; r < runs; r++) {
      for (const i of sessions.keys()) {
        const t0 = performance.now();
        await run(i);
        times[i]!.push(performance.now() - t0);
      }
    }
    const [seq, chunk] = times.map(median) as [number, number];
    console.log(`${rule.padEnd(12)} T=${String(T).padEnd(4)} ${forms.map(([name], i) => `${name} ${median(times[i]!).toFixed(1).padStart(8)} ms`).join('   ')}   sequential/chunked x${(seq / chunk).toFixed(2)}`);
  } finally {
    linearAttentionForms.chunkedFrom = 2;
    linearAttentionForms.software = software;
    await Promise.all(sessions.map((s) => s.release()));
  }
}

console.log(`LinearAttention prefill, ${H} heads, d_k = d_v = ${D}, with past_state; WebGPU medians of ${runs} interleaved runs`);
for (const rule of rules) for (const T of lengths) await bench(rule, T);
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
