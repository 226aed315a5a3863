import type { LaneFinish, ShaderBuilder, TensorVar } from './shader-builder.ts';

/** One operand of rowVec4: the `let` name the value expression reads, and a conversion of the loaded element. */
export interface RowOperand {
  readonly name: string;
  readonly tensor: TensorVar;
  readonly wrap?: (value: string) => string;
}

/**
 * A broadcast whose innermost (merged: coalesce-broadcast.ts) axis is a multiple of 4 and where each
 * operand either spans it or is one value along it (a squeeze-excite Mul [C, H*W] x [C, 1], a bias
 * Add [M, N] x [N]): four output elements per invocation, with the index math done once for the four.
 * Operands that span the axis load one aligned vec4 (their offset for the first of four is a multiple
 * of 4); the others load one value for all four lanes. SwiftShader pays per instruction, so a quarter
 * of the divisions and loads (replayed on SwiftShader, PaddleOCR cls's nine squeeze-excite Muls
 * 6.2-9.0 -> 2.4 ms). `value` is a scalar expression over the operands' names; `shapes` are the
 * coalesced output and operand shapes the tensors were declared with; `finish`, a last step on the
 * four lanes at once (ShaderBuilder's LaneFinish). Else (tails, packed types)
 * undefined: the caller's scalar broadcast.
 */
export function rowVec4(b: ShaderBuilder, shapes: { out: number[]; operands: number[][] }, ops: readonly RowOperand[], Y: TensorVar, n: string, value: string, finish?: LaneFinish): { body: string; invocations: number } | undefined {
  const inner = shapes.out[shapes.out.length - 1]!;
  const lastOf = (d: readonly number[]): number => (d.length === shapes.out.length ? d[d.length - 1]! : 1);
  if (inner % 4 !== 0 || Y.size === 0 || Y.packedPerWord || ops.some((o) => o.tensor.packedPerWord || o.tensor.size === 0)) return undefined;
  const spans = shapes.operands.map((d) => lastOf(d) === inner);
  if (shapes.operands.some((d) => lastOf(d) !== inner && lastOf(d) !== 1)) return undefined;
  b.declareVec4(Y.name);
  const wrap = (o: RowOperand, v: string): string => (o.wrap ? o.wrap(v) : v);
  const lines = [`  if (global_idx >= (${n} >> 2u)) { return; }`, `  let idx = ${Y.offsetToIndices('global_idx * 4u')};`];
  ops.forEach((o, k) => {
    const t = o.tensor;
    if (spans[k]) {
      b.declareVec4(t.name);
      lines.push(`  let ${o.name}_v4 = ${t.name}[${t.size === Y.size ? 'global_idx' : `${t.broadcastedOffset(Y, 'idx')} >> 2u`}];`);
    } else lines.push(`  let ${o.name}_s = ${wrap(o, t.get(t.broadcastedOffset(Y, 'idx')))};`);
  });
  lines.push(`  var kiln_r: vec4<${finish ? finish.laneType : Y.type}>;`);
  for (let l = 0; l < 4; l++) {
    const lets = ops.map((o, k) => `let ${o.name} = ${spans[k] ? wrap(o, `${o.name}_v4[${l}]`) : `${o.name}_s`};`).join(' ');
    lines.push(`  { ${lets} kiln_r[${l}] = ${value}; }`);
  }
  lines.push(`  ${Y.name}[global_idx] = ${finish ? finish.vec4('kiln_r') : 'kiln_r'};`);
  return { body: lines.join('\n'), invocations: Y.size / 4 };
}
