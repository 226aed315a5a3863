// Every op's definition, in one typed registry. Adding an op family: a folder with op.ts (definitions
// and references) and its implementations (js.ts, wasm.ts, webgpu.ts), one line here and one in each
// backend's table it implements, and its test data. Families outside the core set (see the rule in
// kernels/lazy-families.ts) go in a group of kernels/lazy/ instead, with their keys in LAZY_OP_KEYS.
import type { OpDefinition } from './contract.ts';
import { opKey } from './contract.ts';
import { lazyDefinition } from './lazy-families.ts';
import { definitions as elementwiseBinary } from './elementwise-binary/op.ts';
import { definitions as elementwiseUnary } from './elementwise-unary/op.ts';
import { definitions as cast } from './cast/op.ts';
import { definitions as where } from './where/op.ts';
import { definitions as variadic } from './variadic/op.ts';
import { definitions as matmul } from './matmul/op.ts';
import { definitions as gemm } from './gemm/op.ts';
import { definitions as conv } from './conv/op.ts';
import { definitions as convTranspose } from './conv-transpose/op.ts';
import { definitions as pool } from './pool/op.ts';
import { definitions as normalization } from './normalization/op.ts';
import { definitions as softmax } from './softmax/op.ts';
import { definitions as reduce } from './reduce/op.ts';
import { definitions as reshape } from './reshape/op.ts';
import { definitions as transpose } from './transpose/op.ts';
import { definitions as concat } from './concat/op.ts';
import { definitions as split } from './split/op.ts';
import { definitions as slice } from './slice/op.ts';
import { definitions as gather } from './gather/op.ts';
import { definitions as expand } from './expand/op.ts';
import { definitions as constant } from './constant/op.ts';
import { definitions as pad } from './pad/op.ts';
import { definitions as resize } from './resize/op.ts';
import { definitions as tile } from './tile/op.ts';
import { definitions as shape } from './shape/op.ts';
import { definitions as fusedElementwise } from './fused-elementwise/op.ts';
import { definitions as controlFlow } from './control-flow/op.ts';

export const definitions: readonly OpDefinition[] = [
  ...elementwiseBinary,
  ...elementwiseUnary,
  ...cast,
  ...where,
  ...variadic,
  ...matmul,
  ...gemm,
  ...conv,
  ...convTranspose,
  ...pool,
  ...normalization,
  ...softmax,
  ...reduce,
  ...reshape,
  ...transpose,
  ...concat,
  ...split,
  ...slice,
  ...gather,
  ...expand,
  ...constant,
  ...pad,
  ...resize,
  ...tile,
  ...shape,
  ...controlFlow,
  ...fusedElementwise,
];

const byKey = new Map<string, OpDefinition>();
for (const d of definitions) {
  const key = opKey(d.domain, d.opType);
  if (byKey.has(key)) throw new Error(`op ${key} defined twice`);
  byKey.set(key, d);
}

/** The op's definition: a core family's, or a lazy group's once loaded (kernels/lazy-families.ts). */
export function resolveDefinition(domain: string, opType: string): OpDefinition | undefined {
  const key = opKey(domain, opType);
  return byKey.get(key) ?? lazyDefinition(key);
}
