// Picks TF.js's fastest backend available in Node: wasm (SIMD) with our Conv2DBackpropFilter
// composition registered, else the pure-JS cpu backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConv2dBackpropFilter } from './conv2d-backprop-filter.ts';

let ready: Promise<string> | undefined;

export function initTf(preferred: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  ready ??= (async () => {
    registerWasmConv2dBackpropFilter();
    if (preferred === 'wasm' && (await tf.setBackend('wasm').catch(() => false))) {
      await tf.ready();
      return 'wasm';
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  })();
  return ready;
}
