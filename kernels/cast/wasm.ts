import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { CAST_CODE } from '../wasm/typed.ts';
import { viewStep } from '../reshape/wasm.ts';

/**
 * Cast / CastLike between float32, float16, int32, int64, uint8, int8 and bool (kernels/wasm/src/cast.c,
 * the reference's conversions; to float16 through float32 and nearest-even, as core/float16.ts); a
 * cast to the same type is a view. Other types run js.
 */
const cast: WasmKernel = (inputs, outputs) => {
  const [from, to] = [inputs[0]?.dtype, outputs[0]!.dtype];
  const [xt, yt] = [from === undefined ? undefined : CAST_CODE[from], CAST_CODE[to]];
  if (xt === undefined || yt === undefined) return undefined;
  if (xt === yt) return viewStep;
  const n = outputs[0]!.dims.reduce((a, d) => a * d, 1);
  return singleExportStep('kiln_cast', (at) => [at.inputs[0]!, xt, at.outputs[0]!, yt, n]);
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'Cast')]: cast,
  [opKey('', 'CastLike')]: cast,
};
