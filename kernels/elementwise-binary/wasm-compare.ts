import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { broadcastWalk, DTYPE_CODE } from '../wasm/typed.ts';

/** kiln_compare's op codes (kernels/wasm/src/compare.c): keep in step with its enum. */
const COMPARE_CODES: Readonly<Record<string, number>> = { Equal: 0, Less: 1, LessOrEqual: 2, Greater: 3, GreaterOrEqual: 4, And: 5, Or: 6, Xor: 7 };

/** Comparisons to bool and And/Or/Xor, both operands broadcast (any shapes), on the dtypes the arena holds. */
function lowerCompare(opType: string): WasmKernel {
  const code = COMPARE_CODES[opType]!;
  return (inputs, outputs) => {
    const [a, b] = [inputs[0], inputs[1]];
    const t = a ? DTYPE_CODE[a.dtype] : undefined;
    if (!a || !b || t === undefined || a.dtype !== b.dtype) return undefined;
    const out = outputs[0]!.dims;
    const desc = broadcastWalk(out, [a.dims, b.dims]);
    if (!desc) return undefined;
    return singleExportStep('kiln_compare', (at) => [code, t, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!, at.persistent[0]!], {
      reads: [0, 1],
      persistent: desc,
      empty: out.includes(0),
    });
  };
}

/** Not on bool. */
const not: WasmKernel = (inputs, outputs) => {
  if (inputs[0]?.dtype !== 'bool') return undefined;
  const n = outputs[0]!.dims.reduce((x, d) => x * d, 1);
  return singleExportStep('kiln_not_u8', (at) => [at.inputs[0]!, at.outputs[0]!, n]);
};

export const wasm: ImplementationTable<WasmKernel> = {
  ...Object.fromEntries(Object.keys(COMPARE_CODES).map((op) => [opKey('', op), lowerCompare(op)])),
  [opKey('', 'Not')]: not,
};
