import type { DataType } from '../../core/dtype.ts';

/**
 * Narrow integers live widened in 32-bit words (storage.ts), so a kernel whose result can leave
 * the narrow range (Neg of int8 -128, Cast int32 -> uint8, a uint8 left shift) wraps it here the
 * way the narrow type would, keeping GPU chains equal to the CPU reference before download.
 */
export function wgslWrap(dtype: DataType, expr: string): string {
  switch (dtype) {
    case 'int8': return `((${expr}) << 24u) >> 24u`;
    case 'int16': return `((${expr}) << 16u) >> 16u`;
    case 'int4': return `((${expr}) << 28u) >> 28u`;
    case 'uint8': return `((${expr}) & 0xffu)`;
    case 'uint16': return `((${expr}) & 0xffffu)`;
    case 'uint4': return `((${expr}) & 0xfu)`;
    default: return expr;
  }
}
