// A tiny app as users write one after `npm install kilnjs` (plain JS, so the repo's type check does
// not need dist/ to exist). Sessions run in the worker that Vite bundles from kilnjs by default.
import { InferenceSession, Tensor } from 'kilnjs';

window.kilnApp = {
  async run(url, x, worker = true) {
    const progress = [];
    const session = await InferenceSession.create(url, { executionProviders: ['webgpu'], worker, onProgress: (loaded, total) => progress.push([loaded, total]) });
    const out = await session.run({ x: new Tensor('float32', Float32Array.from(x), [x.length / 3, 3]) });
    const y = out[session.outputNames[0]];
    const facts = { provider: session.executionProvider, dims: [...y.dims], data: Array.from(y.data), isTensor: y instanceof Tensor, progress: progress.at(-1) };
    await session.release();
    return facts;
  },
};
document.getElementById('status').textContent = 'ready';
