import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { ARENA_DTYPE_BYTES, broadcastWalk } from '../wasm/typed.ts';

/** Where over any dtype the arena holds, condition, X and Y each broadcast to the output (one walk, kernels/wasm/src/where.c). */
const where: WasmKernel = (inputs, outputs) => {
  const [c, x, y] = [inputs[0], inputs[1], inputs[2]];
  const bytes = x ? ARENA_DTYPE_BYTES[x.dtype] : undefined;
  if (c?.dtype !== 'bool' || !x || !y || bytes === undefined || bytes === 2) return undefined; // where.c moves 1, 4 or 8 bytes
  const out = outputs[0]!.dims;
  const desc = broadcastWalk(out, [c.dims, x.dims, y.dims]);
  if (!desc) return undefined;
  return singleExportStep('kiln_where', (at) => [at.inputs[0]!, at.inputs[1]!, at.inputs[2]!, at.outputs[0]!, bytes, at.persistent[0]!], {
    reads: [0, 1, 2],
    persistent: desc,
    empty: out.includes(0),
  });
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('', 'Where')]: where };
