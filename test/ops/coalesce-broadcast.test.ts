// Merging broadcast axes for the WebGPU elementwise programs (kernels/webgpu/coalesce-broadcast.ts):
// shapes worked out by hand, and every merged form checked to address the same elements as numpy
// broadcasting on the original shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesceBroadcast } from '../../kernels/webgpu/coalesce-broadcast.ts';

test('axes merge where every operand spans or broadcasts both; output axes of 1 go', () => {
  assert.deepEqual(coalesceBroadcast([1, 64, 48, 192], [[1, 64, 48, 192], [1, 64, 1, 1]]), { out: [64, 9216], operands: [[64, 9216], [64, 1]] });
  assert.deepEqual(coalesceBroadcast([2, 3, 4], [[2, 3, 4], [4]]), { out: [6, 4], operands: [[6, 4], [1, 4]] });
  assert.deepEqual(coalesceBroadcast([2, 3, 4, 5], [[2, 1, 4, 5], [1, 3, 1, 1]]), { out: [2, 3, 20], operands: [[2, 1, 20], [1, 3, 1]] });
  assert.deepEqual(coalesceBroadcast([1, 1], [[1, 1], [1]]), { out: [1], operands: [[1], [1]] });
  assert.deepEqual(coalesceBroadcast([5], [[5], []]), { out: [5], operands: [[5], [1]] });
});

/** numpy's element of `dims` (right-aligned) that output flat offset `o` reads */
function sourceOffset(out: readonly number[], dims: readonly number[], o: number): number {
  const aligned = [...new Array<number>(out.length - dims.length).fill(1), ...dims];
  let rest = o;
  let offset = 0;
  let stride = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    const idx = rest % out[i]!;
    rest = Math.floor(rest / out[i]!);
    if (aligned[i] !== 1) offset += idx * stride;
    stride *= aligned[i]!;
  }
  return offset;
}

test('merged shapes read the same elements as the original broadcast, over every offset', () => {
  const cases: [number[], number[][]][] = [
    [[2, 3, 4, 5], [[2, 1, 4, 5], [1, 3, 1, 1]]],
    [[3, 1, 4, 2], [[4, 1], [3, 1, 1, 2]]],
    [[2, 2, 3, 3], [[2, 2, 3, 3], [3, 1]]],
    [[4, 5, 6], [[1], [5, 1]]],
  ];
  for (const [out, ops] of cases) {
    const merged = coalesceBroadcast(out, ops);
    assert.equal(merged.out.reduce((a, b) => a * b, 1), out.reduce((a, b) => a * b, 1));
    const n = out.reduce((a, b) => a * b, 1);
    for (const [k, dims] of ops.entries()) {
      for (let o = 0; o < n; o++) {
        assert.equal(sourceOffset(merged.out, merged.operands[k]!, o), sourceOffset(out, dims, o), `out [${out.join(', ')}] operand [${dims.join(', ')}] offset ${o}`);
      }
    }
  }
});
