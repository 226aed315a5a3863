/**
 * The output and operand shapes of a broadcasting elementwise op with adjacent axes merged where every
 * operand either spans both or broadcasts both, and output axes of size 1 dropped: the same elements
 * at the same flat offsets, with fewer index divisions per element in the WGSL (a squeeze-excite
 * Mul [1,C,H,W] x [1,C,1,1] becomes [C,H*W] x [C,1]: one division and one remainder, not four each).
 * Operand shapes are right-aligned to the output's rank and must broadcast to it.
 */
export function coalesceBroadcast(out: readonly number[], operands: readonly (readonly number[])[]): { out: number[]; operands: number[][] } {
  const rank = out.length;
  const aligned = operands.map((d) => [...new Array<number>(rank - d.length).fill(1), ...d]);
  const merged: number[] = [];
  const mergedOps: number[][] = operands.map(() => []);
  let previous: string | undefined;
  for (let i = 0; i < rank; i++) {
    if (out[i] === 1) continue;
    const pattern = aligned.map((d) => (d[i] === 1 ? 'b' : 'f')).join('');
    if (pattern === previous) {
      merged[merged.length - 1]! *= out[i]!;
      aligned.forEach((d, k) => (mergedOps[k]![mergedOps[k]!.length - 1]! *= d[i]!));
    } else {
      merged.push(out[i]!);
      aligned.forEach((d, k) => mergedOps[k]!.push(d[i]!));
      previous = pattern;
    }
  }
  if (merged.length === 0) return { out: [1], operands: operands.map(() => [1]) };
  return { out: merged, operands: mergedOps };
}
