// Op families outside the core set are loaded on demand (docs/decisions.md, "lazy-ops"): each group
// below is one chunk (ESM builds: kiln.<build>-ops-<group>.mjs; script tag: kiln.iife-ops-<group>.js)
// holding the group's definitions and its js and WebGPU kernels. LAZY_OP_KEYS lists every op of every
// group statically, so an op is known (docs/ops.md, the .kiln header check) before its chunk loads,
// and an op in no table is still named as unsupported at load. The session awaits
// loadOpFamiliesFor(nodes) right after parsing, before the graph passes and resolveGraph.
// The rule: an op family is core (kernels/definitions.ts) when the CNN, MLP, BERT and OCR models of
// test/ and bench/ use it, or when it is a building block every graph meets (shape, reshape, cast...);
// every other family goes in a group here.
import type { CpuKernel, ImplementationTable, OpDefinition } from './contract.ts';
import { opKey } from './contract.ts';
import type { WebGpuKernel } from './webgpu/contract.ts';

/** What a group's chunk exports (kernels/lazy/ops-<group>.ts). */
export interface LazyOpGroup {
  readonly definitions: readonly OpDefinition[];
  readonly js: readonly ImplementationTable<CpuKernel>[];
  readonly webgpu: readonly ImplementationTable<WebGpuKernel>[];
}

export type LazyGroupName = 'quantized' | 'transformer' | 'sequence' | 'vision' | 'signal' | 'ml';

/** Every lazily loaded op, by opKey -> its group (test/ops/lazy-families.test.ts checks this against the chunks). */
export const LAZY_OP_KEYS: Readonly<Record<string, LazyGroupName>> = {
  '::QuantizeLinear': 'quantized', '::DequantizeLinear': 'quantized', '::DynamicQuantizeLinear': 'quantized',
  '::MatMulInteger': 'quantized', '::QLinearMatMul': 'quantized', '::ConvInteger': 'quantized',
  '::QLinearConv': 'quantized', 'com.microsoft::QLinearAdd': 'quantized',
  'com.microsoft::MatMulNBits': 'quantized', 'kiln::DequantConv': 'quantized',
  'kiln::QuantizeDequantize': 'quantized', 'com.microsoft::GatherBlockQuantized': 'quantized',
  'kiln::QLinearLookup': 'quantized',
  'kiln::QLinearLookupGlobalAveragePool': 'quantized', 'kiln::QLinearLookupMul': 'quantized',
  'com.microsoft::SkipLayerNormalization': 'transformer',
  'com.microsoft::SkipSimplifiedLayerNormalization': 'transformer',
  '::SimplifiedLayerNormalization': 'transformer',
  'com.microsoft::SimplifiedLayerNormalization': 'transformer', '::RMSNormalization': 'transformer',
  'com.microsoft::FastGelu': 'transformer', 'com.microsoft::BiasGelu': 'transformer',
  'com.microsoft::QuickGelu': 'transformer', 'com.microsoft::BiasAdd': 'transformer',
  'com.microsoft::BiasSplitGelu': 'transformer', 'com.microsoft::EmbedLayerNormalization': 'transformer',
  'com.microsoft::RotaryEmbedding': 'transformer', '::RotaryEmbedding': 'transformer',
  'com.microsoft::MultiHeadAttention': 'transformer', 'com.microsoft::Attention': 'transformer',
  'com.microsoft::GroupQueryAttention': 'transformer', '::Attention': 'transformer',
  'kiln::KvCacheWrite': 'transformer', 'kiln::KvCacheAttention': 'transformer',
  '::SwiGLU': 'transformer', '::CausalConvWithState': 'transformer', '::LinearAttention': 'transformer',
  '::CumSum': 'sequence', '::CumProd': 'sequence', '::Trilu': 'sequence', '::ScatterND': 'sequence',
  '::ScatterElements': 'sequence', '::Scatter': 'sequence', '::TensorScatter': 'sequence',
  '::Einsum': 'sequence', '::TopK': 'sequence', '::OneHot': 'sequence', '::Dropout': 'sequence',
  '::NonZero': 'sequence', '::Compress': 'sequence', '::Unique': 'sequence', '::RNN': 'sequence',
  '::GRU': 'sequence', '::LSTM': 'sequence', '::ReverseSequence': 'sequence',
  '::Det': 'sequence', '::BitCast': 'sequence',
  '::GridSample': 'vision', '::AffineGrid': 'vision', '::LRN': 'vision',
  '::MeanVarianceNormalization': 'vision', '::NonMaxSuppression': 'vision', '::RoiAlign': 'vision',
  '::CenterCropPad': 'vision',
  '::Col2Im': 'vision',
  '::MaxUnpool': 'vision',
  '::DeformConv': 'vision',
  '::DFT': 'signal', '::STFT': 'signal', '::HannWindow': 'signal', '::HammingWindow': 'signal',
  '::BlackmanWindow': 'signal', '::MelWeightMatrix': 'signal',
  'ai.onnx.ml::TreeEnsembleRegressor': 'ml', 'ai.onnx.ml::TreeEnsembleClassifier': 'ml', 'ai.onnx.ml::TreeEnsemble': 'ml',
  'ai.onnx.ml::LinearRegressor': 'ml', 'ai.onnx.ml::LinearClassifier': 'ml', 'ai.onnx.ml::Binarizer': 'ml', 'ai.onnx.ml::Scaler': 'ml',
  'ai.onnx.ml::Normalizer': 'ml', 'ai.onnx.ml::Imputer': 'ml', 'ai.onnx.ml::ArrayFeatureExtractor': 'ml',
  'ai.onnx.ml::LabelEncoder': 'ml',
};

/** One `import()` per group: the bundlers split each into a chunk (the script tag: vite.config.ts IIFE_CHUNKS). */
const LOADERS: Readonly<Record<LazyGroupName, () => Promise<{ group: LazyOpGroup }>>> = {
  quantized: () => import('./lazy/ops-quantized.ts'),
  transformer: () => import('./lazy/ops-transformer.ts'),
  sequence: () => import('./lazy/ops-sequence.ts'),
  vision: () => import('./lazy/ops-vision.ts'),
  signal: () => import('./lazy/ops-signal.ts'),
  ml: () => import('./lazy/ops-ml.ts'),
};

const definitions = new Map<string, OpDefinition>();
const jsKernels = new Map<string, CpuKernel>();
const webgpuKernels = new Map<string, WebGpuKernel>();
const loaded = new Set<LazyGroupName>();
const loading = new Map<LazyGroupName, Promise<void>>();

/** Adds a loaded group to the lookups below (idempotent; also used by kernels/all-ops.ts). */
export function registerLazyGroup(name: LazyGroupName, group: LazyOpGroup): void {
  if (loaded.has(name)) return;
  for (const d of group.definitions) definitions.set(opKey(d.domain, d.opType), d);
  for (const table of group.js) for (const [key, kernel] of Object.entries(table)) jsKernels.set(key, kernel);
  for (const table of group.webgpu) for (const [key, kernel] of Object.entries(table)) webgpuKernels.set(key, kernel);
  loaded.add(name);
}

/** The group an op belongs to, when it is a lazily loaded op. */
export function lazyGroupOf(domain: string | undefined, opType: string): LazyGroupName | undefined {
  return LAZY_OP_KEYS[opKey(domain, opType)];
}

export const lazyDefinition = (key: string): OpDefinition | undefined => definitions.get(key);
export const lazyJsKernel = (key: string): CpuKernel | undefined => jsKernels.get(key);
export const lazyWebGpuKernel = (key: string): WebGpuKernel | undefined => webgpuKernels.get(key);

/** Loads the group `name` once; a failed load (offline) may be retried by a later session. */
export function loadLazyGroup(name: LazyGroupName): Promise<void> {
  if (loaded.has(name)) return Promise.resolve();
  let p = loading.get(name);
  if (!p) {
    p = LOADERS[name]().then((m) => registerLazyGroup(name, m.group));
    loading.set(name, p);
    p.catch(() => loading.delete(name));
  }
  return p;
}

/** Loads the groups holding the ops of `nodes` (in parallel); ops in no group are left to resolveGraph to name. */
export async function loadOpFamiliesFor(nodes: Iterable<{ readonly domain?: string; readonly opType: string }>): Promise<void> {
  const needed = new Set<LazyGroupName>();
  for (const n of nodes) {
    const g = lazyGroupOf(n.domain, n.opType);
    if (g !== undefined && !loaded.has(g)) needed.add(g);
  }
  await Promise.all([...needed].map(loadLazyGroup));
}

export const LAZY_GROUP_NAMES = Object.keys(LOADERS) as LazyGroupName[];
