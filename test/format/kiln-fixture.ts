// A small quantized model (int8 per-channel QDQ Conv, int4 blocked QDQ MatMul, a float16 initializer,
// a Constant node with a tensor attribute, a float attribute) with fresh random weights, and a
// bundle spec with labels and a drift reference: what the .kiln tests write and read.
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { floatToHalf } from '../../core/float16.ts';
import type { BundleSpec } from '../../runtime/format/kiln/bundle-spec.ts';
import type { WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';
import { randomTensor } from '../ops/op-harness.ts';
import { testRng } from '../helpers/random.ts';
import type { Rng } from '../helpers/rng-core.ts';

/** this file's random stream (seeded from KILN_TEST_SEED: see test/helpers/random.ts) */
const rng = testRng(import.meta.url);

const positive = (n: number, lo = 0.01, hi = 0.05): Float32Array => Float32Array.from({ length: n }, () => lo + rng.uniform() * (hi - lo));

/** hidden: MatMul output width; k = 4*6*6 = 144 rows in blocks of 16 */
export function quantizedModel(hidden = 16): WriterModel {
  const k = 4 * 6 * 6;
  const blocks = k / 16;
  const initializers: Record<string, AnyTensor> = {
    w_q: randomTensor({ dtype: 'int8', dims: [4, 3, 3, 3], range: [-128, 128] }),
    w_scale: new Tensor('float32', positive(4), [4]),
    w_zp: randomTensor({ dtype: 'int8', dims: [4], range: [-3, 4] }),
    bias: randomTensor({ dtype: 'float32', dims: [4] }),
    shape: new Tensor('int64', [0n, BigInt(k)], [2]),
    m_q: randomTensor({ dtype: 'int4', dims: [k, hidden], range: [-8, 8] }),
    m_scale: new Tensor('float32', positive(blocks * hidden), [blocks, hidden]),
    m_zp: randomTensor({ dtype: 'int4', dims: [blocks, hidden], range: [-2, 3] }),
    h16: new Tensor('float16', Uint16Array.from({ length: hidden }, () => floatToHalf(rng.uniform() * 2 - 1)), [hidden]),
  };
  return {
    opsets: { '': 21 },
    producer: 'kiln-test',
    metadata: { purpose: 'round trip' },
    inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 3, 6, 6] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', hidden] }],
    initializers,
    nodes: [
      { name: 'dq_w', opType: 'DequantizeLinear', inputs: ['w_q', 'w_scale', 'w_zp'], outputs: ['w'], attrs: { axis: 0 } },
      { name: 'conv1', opType: 'Conv', inputs: ['x', 'w', 'bias'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { name: 'relu1', opType: 'Relu', inputs: ['c'], outputs: ['r'] },
      { name: 'flat', opType: 'Reshape', inputs: ['r', 'shape'], outputs: ['f'] },
      { name: 'dq_m', opType: 'DequantizeLinear', inputs: ['m_q', 'm_scale', 'm_zp'], outputs: ['m'], attrs: { axis: 0, block_size: 16 } },
      { name: 'fc1', opType: 'MatMul', inputs: ['f', 'm'], outputs: ['mm'] },
      { name: 'offset', opType: 'Constant', inputs: [], outputs: ['off'], attrs: { value: randomTensor({ dtype: 'float32', dims: [hidden] }) } },
      { name: 'add1', opType: 'Add', inputs: ['mm', 'off'], outputs: ['a'] },
      { name: 'cast_h', opType: 'Cast', inputs: ['h16'], outputs: ['h'], attrs: { to: 1 } },
      { name: 'add2', opType: 'Add', inputs: ['a', 'h'], outputs: ['a2'] },
      { name: 'leaky', opType: 'LeakyRelu', inputs: ['a2'], outputs: ['y'], attrs: { alpha: 0.1 } },
    ],
  };
}

/** ~700 KiB of weights in 11 layers: float32 MatMuls and a final int8 QDQ MatMul. */
export function layeredMlp(opType = 'Relu'): WriterModel {
  const layers = 10;
  const initializers: Record<string, AnyTensor> = {
    wq: randomTensor({ dtype: 'int8', dims: [128, 128], range: [-128, 128] }),
    ws: new Tensor('float32', [0.003], []),
  };
  const nodes: WriterModel['nodes'][number][] = [];
  let x = 'x';
  for (let i = 0; i < layers; i++) {
    initializers[`w${i}`] = randomTensor({ dtype: 'float32', dims: [128, 128], range: [-0.15, 0.15] });
    nodes.push({ name: `fc${i}`, opType: 'MatMul', inputs: [x, `w${i}`], outputs: [`h${i}`] });
    nodes.push({ name: `act${i}`, opType: i === 5 ? opType : 'Relu', inputs: [`h${i}`], outputs: [`a${i}`] });
    x = `a${i}`;
  }
  nodes.push({ name: 'dq', opType: 'DequantizeLinear', inputs: ['wq', 'ws'], outputs: ['w'] });
  nodes.push({ name: 'out', opType: 'MatMul', inputs: [x, 'w'], outputs: ['y'] });
  return {
    opsets: { '': 21 },
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 128] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [2, 128] }],
    initializers,
    nodes,
  };
}

/**
 * What the cold-start bench loads: `layers` float32 [n, n] MatMuls and a Relu, x [1, n]; weights from
 * the caller's stream; `extra` initializers ride along unused (bytes placed where a test wants them).
 */
export function matmulChain(rng: Rng, layers: number, n: number, extra: Record<string, AnyTensor> = {}): WriterModel {
  const initializers: Record<string, AnyTensor> = {};
  const nodes: WriterModel['nodes'][number][] = [];
  let x = 'x';
  for (let i = 0; i < layers; i++) {
    initializers[`w${i}`] = randomTensor({ dtype: 'float32', dims: [n, n], range: [-1 / n, 1 / n] }, rng);
    nodes.push({ opType: 'MatMul', inputs: [x, `w${i}`], outputs: [`h${i}`] });
    x = `h${i}`;
  }
  nodes.push({ opType: 'Relu', inputs: [x], outputs: ['y'] });
  return { nodes, initializers: { ...initializers, ...extra }, inputs: [{ name: 'x', dtype: 'float32', dims: [1, n] }], outputs: [{ name: 'y', dtype: 'float32' }] };
}

export function bundleSpec(hidden = 16): BundleSpec {
  return {
    inputs: [{ name: 'x', layout: 'NCHW', preprocessing: { kind: 'affine', scale: 1 / 255, offset: 0, rawRange: [0, 255] } }],
    outputs: [{ name: 'y', kind: 'logits', labels: Array.from({ length: hidden }, (_, i) => `class ${i}`) }],
    metadata: {
      name: 'kiln-fixture',
      version: '1.0.0',
      provenance: { tool: 'kiln test', toolVersion: '0.1.0', createdAt: '2026-12-01T00:00:00.000Z', seed: rng.uniform() } /* a fixed date: the header's bytes replay from the seed */,
      metrics: { accuracyFloat: 0.99, accuracyQuantized: 0.985 },
      drift: {
        version: 1,
        samples: 100,
        origin: 'test',
        inputs: [{ name: 'x.c0', type: 'numeric', source: { kind: 'channel-mean', tensor: 'x', channel: 0, layout: 'NCHW' }, edges: [0.1, 0.5], counts: [30, 40, 30], count: 100, mean: 0.4, std: 0.2, min: 0, max: 1 }],
        outputs: [{ name: 'y.argmax', type: 'categorical', source: { kind: 'argmax', tensor: 'y' }, categories: ['a', 'b'], counts: [60, 40], count: 100 }],
      },
    },
  };
}

/** PKCS#8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/** A key pair from this file's random stream (not generateKey), so signed bundles replay from the run's seed. */
export async function ed25519Pair(): Promise<CryptoKeyPair> {
  const pkcs8 = Uint8Array.from([...PKCS8_ED25519_PREFIX, ...rng.bytes(32)]);
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, 'Ed25519', true, ['sign']);
  const { x } = await crypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x }, 'Ed25519', true, ['verify']);
  return { privateKey, publicKey };
}
