/**
 * The one list of skipped tests, each with its reason. A test may be listed only for a documented
 * limitation (e.g. a dtype a backend does not support); docs/ops.md repeats this list. No test
 * skips any other way: a test that cannot run here calls t.skip(listedSkip(...)) with a key below.
 */
const TRAINING_DROPOUT = 'Dropout in training mode drops at random from numpy\'s stream: Kiln runs inference only and refuses it with UNSUPPORTED_FEATURE (ratio 0 is supported)';
const MAXUNPOOL_OUTPUT_SHAPE = 'MaxUnpool with output_shape: Kiln gives onnxruntime-web\'s answer (indices are flat positions in the output, as MaxPool\'s Indices of an input of that shape are); this case\'s indices were computed for the smaller inferred shape and the ONNX reference moves them to the same coordinates (docs/decisions.md, control-ops)';
const KNOWN: Record<string, string> = {
  '*:node/test_maxunpool_export_with_output_shape': MAXUNPOOL_OUTPUT_SHAPE,
  '*:node/test_training_dropout': TRAINING_DROPOUT,
  '*:node/test_training_dropout_default': TRAINING_DROPOUT,
  '*:node/test_training_dropout_default_mask': TRAINING_DROPOUT,
  '*:node/test_training_dropout_mask': TRAINING_DROPOUT,
};

/**
 * Skips that depend on what this machine offers (checked at run time), each with its reason.
 * They show in the run's "N skipped" count, never as a silent pass.
 */
const CAPABILITY: Record<string, string> = {
  'webgpu:subgroups': 'the adapter lacks the optional WebGPU feature "subgroups": the subgroup (quad) matmul tiles cannot be compiled here',
};

/** The reason for a listed capability skip; an unlisted key is a mistake in the test, not a skip. */
export function listedSkip(key: string): string {
  const reason = CAPABILITY[key];
  if (reason === undefined) throw new Error(`'${key}' is not listed in test/known-failures.ts: every skip is listed there with its reason`);
  return reason;
}

export const capabilitySkips: Readonly<Record<string, string>> = CAPABILITY;

export function knownFailure(backend: string, id: string): string | undefined {
  return KNOWN[`${backend}:${id}`] ?? KNOWN[`*:${id}`];
}

export const knownFailures: Readonly<Record<string, string>> = KNOWN;

/**
 * Nodes that run on the CPU on the WebGPU backend because their WebGPU kernel declines the case:
 * the conformance run checks their values all the same, and fails on any other declined node.
 * Each is a kernel gap to close (docs/ops.md lists them), by conformance case id prefix.
 */
const CPU_FALLBACKS: Record<string, string> = {
  'node/test_batchnorm_': 'BatchNormalization in training mode (running mean/var outputs) has no WebGPU kernel yet',
  'node/test_resize_': 'Resize with antialias has no WebGPU kernel yet',
  'node/test_attention_3d_with_past_and_present_qk_matmul': 'Attention with qk_matmul_output (an S x T matrix by definition) runs on the CPU',
  'node/test_attention_4d_with_past_and_present_qk_matmul': 'Attention with qk_matmul_output (an S x T matrix by definition) runs on the CPU',
  'node/test_attention_4d_with_qk_matmul': 'Attention with qk_matmul_output (an S x T matrix by definition) runs on the CPU',
  'node/test_attention_23_fullymasked_qk_matmul_output': 'Attention with qk_matmul_output (an S x T matrix by definition) runs on the CPU',
  'node/test_attention_24_fullymasked_qk_matmul_output': 'Attention with qk_matmul_output (an S x T matrix by definition) runs on the CPU',
  'node/test_attention_24_qk_matmul_output': 'Attention with qk_matmul_output (an S x T matrix by definition) runs on the CPU',
};

export const cpuFallbacks: Readonly<Record<string, string>> = CPU_FALLBACKS;

/** Why a conformance case may run some nodes on the CPU under WebGPU, or undefined. */
export function knownCpuFallback(caseId: string, declined: readonly string[]): string | undefined {
  const [prefix, reason] = Object.entries(CPU_FALLBACKS).find(([p]) => caseId.startsWith(p)) ?? [];
  if (!prefix) return undefined;
  const op = prefix.startsWith('node/test_attention_') ? /^Attention / : { 'node/test_batchnorm_': /^BatchNormalization /, 'node/test_resize_': /^Resize / }[prefix]!;
  return declined.every((d) => op.test(d)) ? reason : undefined;
}
