import { Tensor, type AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { CpuKernel, ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import { metaOf } from '../common/values.ts';
import { elementReader } from '../common/element-reader.ts';
import { definitions, gbqPlan, zeroPointReader } from './op.ts';

/**
 * The embedding layout (gather_axis 0, blocks along the last axis) into float32: rows walked block
 * by block so each scale and zero point is read once; other layouts and float16 output run the
 * reference.
 */
const gatherBlockQuantized: CpuKernel = (inputs, ctx): AnyTensor[] => {
  const p = gbqPlan(inputs.map((t) => t && metaOf(t)), ctx);
  const rank = inputs[0]!.dims.length;
  if (p.gatherAxis !== 0 || p.quantizeAxis !== rank - 1 || p.out.dtype !== 'float32') return definitions[0]!.reference(inputs, ctx);
  const data = inputs[0]!.data as Int8Array | Uint8Array;
  const indices = elementReader(inputs[1]!);
  const scales = inputs[2]!.data as Float32Array;
  const zeroPoint = zeroPointReader(p, inputs[3] ? elementReader(inputs[3]) : undefined);
  const { quantizeAxisDim: qdim, blockSize: bs, scaleFull: nb, bits } = p;
  const rowsPer = p.gatherBlock / qdim;
  const sub = p.packedUint8 && bits < 8;
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const y = new Float32Array(p.gatherN * p.gatherBlock);
  let o = 0;
  for (let n = 0; n < p.gatherN; n++) {
    let idx = indices(n);
    if (idx < -p.gatherAxisDim || idx >= p.gatherAxisDim) fail('INVALID_ARGUMENT', `node '${ctx.node}': indices element ${idx} is out of data bounds [${-p.gatherAxisDim}, ${p.gatherAxisDim - 1}]`);
    if (idx < 0) idx += p.gatherAxisDim;
    for (let r = 0; r < rowsPer; r++) {
      const x = idx * rowsPer + r;
      for (let b = 0; b < nb; b++) {
        const s = x * nb + b;
        const scale = scales[s]!;
        const zp = zeroPoint(s);
        const end = Math.min(qdim, (b + 1) * bs);
        for (let j = b * bs; j < end; j++) {
          const d = x * qdim + j;
          const q = sub ? (data[Math.floor(d / per)]! >> ((d % per) * bits)) & mask : data[d]!;
          y[o++] = (q - zp) * scale;
        }
      }
    }
  }
  return [new Tensor('float32', y, p.out.dims)];
};

export const js: ImplementationTable<CpuKernel> = { [opKey('com.microsoft', 'GatherBlockQuantized')]: gatherBlockQuantized };
