import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import type { QuantParamLayout } from '../common/quant.ts';
import { planDequantize, planQuantize } from './op.ts';

/**
 * QuantizeLinear (float32 -> int8/uint8) and DequantizeLinear (int8/uint8 -> float32) in wasm
 * (kernels/wasm/src/gemm-s8.c kiln_quantize_f32 / kiln_dequantize_f32), per tensor or per axis,
 * float32 scales. Scale and zero point are read from memory (constants are copied there once), so
 * fed parameters work too. Blocked layouts, 4/16/32-bit integers, float16 decline (they run js).
 */

const EIGHT_BIT = new Set(['int8', 'uint8']);
const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

/** outer x axisDim x inner of x, or undefined for a blocked layout. */
function splitOf(layout: QuantParamLayout, size: number): [number, number, number] | undefined {
  if (layout.kind === 'tensor') return [1, 1, size];
  if (layout.kind !== 'axis') return undefined;
  const slab = layout.axisDim * layout.inner;
  return [slab === 0 ? 0 : size / slab, layout.axisDim, layout.inner];
}

const quantize: WasmKernel = (inputs, outputs, ctx) => {
  const [x, scale, zp] = inputs;
  if (x?.dtype !== 'float32' || scale?.dtype !== 'float32') return undefined;
  const p = planQuantize(inputs, ctx);
  const split = splitOf(p.layout, count(x.dims));
  if (!split || p.precision !== 'float32' || !EIGHT_BIT.has(p.out.dtype) || outputs[0]!.dtype !== p.out.dtype) return undefined;
  const [outer, axisDim, inner] = split;
  const [lo, hi] = p.range;
  const zpSigned = p.out.dtype === 'int8' ? 1 : 0;
  let f: WasmExport | undefined;
  return {
    reads: zp ? [0, 1, 2] : [0, 1],
    scratchBytes: 0,
    persistentBytes: [],
    prepare: (k) => void (f = k.fn('kiln_quantize_f32')),
    run(k, at) {
      f ??= k.fn('kiln_quantize_f32');
      f(at.inputs[0]!, at.outputs[0]!, outer, axisDim, inner, at.inputs[1]!, zp ? at.inputs[2]! : 0, zpSigned, lo, hi);
    },
  };
};

const dequantize: WasmKernel = (inputs, outputs, ctx) => {
  const [x, scale, zp] = inputs;
  if (!x || !EIGHT_BIT.has(x.dtype) || scale?.dtype !== 'float32') return undefined;
  const p = planDequantize(inputs, ctx);
  const split = splitOf(p.layout, count(x.dims));
  if (!split || p.precision !== 'float32' || p.out.dtype !== 'float32' || outputs[0]!.dtype !== 'float32') return undefined;
  const [outer, axisDim, inner] = split;
  const signed = x.dtype === 'int8' ? 1 : 0;
  let f: WasmExport | undefined;
  return {
    reads: zp ? [0, 1, 2] : [0, 1],
    scratchBytes: 0,
    persistentBytes: [],
    prepare: (k) => void (f = k.fn('kiln_dequantize_f32')),
    run(k, at) {
      f ??= k.fn('kiln_dequantize_f32');
      f(at.inputs[0]!, signed, at.outputs[0]!, outer, axisDim, inner, at.inputs[1]!, zp ? at.inputs[2]! : 0);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = {
  [opKey('', 'QuantizeLinear')]: quantize,
  [opKey('', 'DequantizeLinear')]: dequantize,
};
