import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { toNumbers } from '../common/values.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { planQdq } from './op.ts';

/**
 * kiln.QuantizeDequantize in wasm (kernels/wasm/src/qlinear-eltwise.c kiln_qdq_f32): float32 x and
 * scale, one constant scale and zero point (a QDQ model's activation pairs), float32 steps as the
 * js path. Per-axis, blocked, fed parameters and other types decline (they run js).
 */
const quantizeDequantize: WasmKernel = (inputs, outputs, ctx) => {
  const [x, scale, zp] = inputs;
  if (x?.dtype !== 'float32' || scale?.dtype !== 'float32' || ctx.attrs.int('precision', 0) !== 0) return undefined;
  const p = planQdq(inputs, ctx);
  const [s, z] = [ctx.constants[1], zp ? ctx.constants[2] : undefined];
  if (p.layout.kind !== 'tensor' || p.precision !== 'float32' || outputs[0]!.dtype !== 'float32' || !s || s.size !== 1 || (zp && (!z || z.size !== 1))) return undefined;
  const sv = toNumbers(s)[0]!;
  const zv = z ? toNumbers(z)[0]! : 0;
  const [lo, hi] = p.range;
  const n = x.dims.reduce((a, d) => a * d, 1);
  let f: WasmExport | undefined;
  return {
    reads: [0],
    scratchBytes: 0,
    persistentBytes: [],
    prepare: (k) => void (f = k.fn('kiln_qdq_f32')),
    run(k, at) {
      f ??= k.fn('kiln_qdq_f32');
      f(at.inputs[0]!, at.outputs[0]!, n, sv, zv, lo, hi);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('kiln', 'QuantizeDequantize')]: quantizeDequantize };
