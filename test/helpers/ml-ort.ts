// The ai.onnx.ml op tests (test/ops/ml-*.test.ts): one-node models run on Kiln and on
// onnxruntime-web (wasm, one thread) with the same feeds; labels must be equal, scores close.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-web';
import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import { encodeOnnxModel, type WriterAttribute } from '../../runtime/format/onnx/onnx-writer.ts';
import { InferenceSession } from '../../runtime/node.ts';
import type { ExecutionProvider } from '../../runtime/api/inference-session.ts';

ort.env.wasm.numThreads = 1;

export interface MlModel {
  readonly op: string;
  /** the ai.onnx.ml opset the model imports */
  readonly mlOpset: number;
  readonly attrs: Readonly<Record<string, WriterAttribute>>;
  readonly feeds: Readonly<Record<string, AnyTensor>>;
  readonly initializers?: Readonly<Record<string, AnyTensor>>;
  /** input names in node order (feeds and initializers) */
  readonly inputs: readonly string[];
  readonly outputs: readonly { name: string; dtype: DataType }[];
  /** attributes onnxruntime's model gets instead (where onnxruntime departs from the ONNX spec) */
  readonly ortAttrs?: Readonly<Record<string, WriterAttribute>>;
  /** feeds onnxruntime gets instead (the same values in a type its kernel is registered for) */
  readonly ortFeeds?: Readonly<Record<string, AnyTensor>>;
}

export function mlModelBytes(m: MlModel): Uint8Array {
  return encodeOnnxModel({
    opsets: { '': 17, 'ai.onnx.ml': m.mlOpset },
    nodes: [{ opType: m.op, domain: 'ai.onnx.ml', inputs: m.inputs, outputs: m.outputs.map((o) => o.name), attrs: m.attrs }],
    inputs: Object.entries(m.feeds).map(([name, t]) => ({ name, dtype: t.type, dims: t.dims })),
    outputs: m.outputs.map((o) => ({ name: o.name, dtype: o.dtype })),
    initializers: m.initializers ?? {},
  });
}

export async function runOrt(bytes: Uint8Array, feeds: Readonly<Record<string, AnyTensor>>): Promise<Record<string, AnyTensor>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims]);
    const out = await s.run(ortFeeds);
    const res: Record<string, AnyTensor> = {};
    for (const [name, t] of Object.entries(out)) res[name] = new Tensor(t.type as DataType, t.data as Float32Array, t.dims);
    return res;
  } finally {
    await s.release();
  }
}

export async function runKiln(bytes: Uint8Array, feeds: Readonly<Record<string, AnyTensor>>, provider: ExecutionProvider): Promise<Record<string, AnyTensor>> {
  const s = await InferenceSession.create(bytes, { executionProviders: [provider] });
  try {
    return { ...(await s.run({ ...feeds })) } as Record<string, AnyTensor>;
  } finally {
    await s.release();
  }
}

/** Creates (plans) a Kiln session and releases it: what a malformed model must fail at. */
export async function loadKiln(bytes: Uint8Array): Promise<void> {
  const s = await InferenceSession.create(bytes, { executionProviders: ['js'] });
  await s.release();
}

/** |got - want| <= atol + rtol * |want| elementwise (NaN only against NaN); the first mismatch, else undefined. */
export function closeness(got: AnyTensor, want: AnyTensor, rtol: number, atol: number): string | undefined {
  if (got.type !== want.type) return `dtype ${got.type}, want ${want.type}`;
  if (got.dims.join(',') !== want.dims.join(',')) return `dims [${got.dims.join(', ')}], want [${want.dims.join(', ')}]`;
  const g = got.data as ArrayLike<number | bigint | string>;
  const w = want.data as ArrayLike<number | bigint | string>;
  for (let i = 0; i < got.size; i++) {
    const a = g[i]!;
    const b = w[i]!;
    if (typeof a !== 'number' || typeof b !== 'number') {
      if (a !== b) return `[${i}] = ${String(a)}, want ${String(b)}`;
      continue;
    }
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (!(Number.isNaN(a) && Number.isNaN(b))) return `[${i}] = ${a}, want ${b}`;
      continue;
    }
    if (Math.abs(a - b) > atol + rtol * Math.abs(b)) return `[${i}] = ${a}, want ${b}`;
  }
  return undefined;
}

/**
 * Runs `m` on onnxruntime-web and on each Kiln provider; outputs of string, integer and bool type must
 * be equal, float outputs within rtol/atol. `what` names the case (with the seed) in failures.
 */
export async function assertMatchesOrt(m: MlModel, what: string, tol: { rtol: number; atol: number }, providers: readonly ExecutionProvider[] = ['js']): Promise<Record<string, AnyTensor>> {
  const bytes = mlModelBytes(m);
  const theirs = { ...m, attrs: { ...m.attrs, ...m.ortAttrs }, feeds: m.ortFeeds ?? m.feeds };
  const want = await runOrt(m.ortAttrs || m.ortFeeds ? mlModelBytes(theirs) : bytes, theirs.feeds);
  for (const provider of providers) {
    const got = await runKiln(bytes, m.feeds, provider);
    for (const { name } of m.outputs) {
      const exact = !['float32', 'float64', 'float16'].includes(want[name]!.type);
      const problem = closeness(got[name]!, want[name]!, exact ? 0 : tol.rtol, exact ? 0 : tol.atol);
      assert.equal(problem, undefined, `${what}: output ${name} on ${typeof provider === 'string' ? provider : provider.name}: ${problem}`);
    }
  }
  return want;
}

export const f32 = (dims: readonly number[], values: ArrayLike<number>): AnyTensor => new Tensor('float32', Float32Array.from(values), dims);
