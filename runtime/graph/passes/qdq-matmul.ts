import { paramIndexMap } from '../../../kernels/common/quant.ts';
import { toNumbers } from '../../../kernels/common/values.ts';
import { Tensor, type AnyTensor } from '../../../core/tensor.ts';
import { Attributes } from '../../../core/attributes.ts';
import type { Graph, Node } from '../ir.ts';
import { GraphIndex, rewriteNodes } from './graph-index.ts';
import { constDequant, constFloat, type ConstDequant } from './qdq-weights.ts';

/**
 * MatMul(A, DequantizeLinear(Wq [K, N]))          (+ Add of a constant [N] bias)
 * Gemm(A, DequantizeLinear(Wq), C)                 (transA = 0, C a constant [N] or [1, N])
 *   ->  com.microsoft MatMulNBits(A, B, scales [, zero_points], bias)
 *
 * MatMulNBits (kernels/matmul-nbits.ts) already reads 8-bit and 4-bit weights packed, in blocks
 * along K, with f32 accumulation: the pass only re-lays the constants out. Per column (N) scales
 * and per-tensor scales become one scale per block; blocked weights (block_size along K, a power
 * of two >= 16, onnxruntime's 4-bit QDQ form) map one to one. Signed weights are stored offset by
 * 2^(bits-1), which is MatMulNBits' default zero point: symmetric weights need no zero points.
 * Gemm's alpha multiplies the scales and beta the bias. Layouts that do not fit (scales varying
 * along K per element) are left alone: the planner folds them to float32 as before.
 */
export function lowerQdqMatMul(graph: Graph, opset: number): void {
  const index = new GraphIndex(graph);
  const replace = new Map<Node, Node | undefined>();
  for (const node of graph.nodes) {
    if (node.domain !== '' || replace.has(node) || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) continue;
    if (node.attrs.has('kiln_activation') || !node.inputs[1]) continue;
    const w = constDequant(graph, index, node.inputs[1], opset);
    if (!w || w.q.dims.length !== 2) continue;
    const gemm = node.opType === 'Gemm';
    if (gemm && node.attrs.int('transA', 0) !== 0) continue;
    const transB = gemm && node.attrs.int('transB', 0) !== 0;
    const [K, N] = transB ? [w.q.dims[1]!, w.q.dims[0]!] : [w.q.dims[0]!, w.q.dims[1]!];
    const blocks = blockScheme(w, transB, K);
    if (!blocks) continue;

    let bias: AnyTensor | undefined;
    let output = node.outputs[0]!;
    let add: Node | undefined;
    if (gemm && node.inputs[2]) {
      const c = constFloat(graph, index, node.inputs[2], opset);
      if (!c || c.size !== N || c.dims.length > 2 || c.dims[c.dims.length - 1] !== N) continue;
      bias = scaled(c, node.attrs.float('beta', 1), [N]);
    } else if (!gemm) {
      add = index.onlyConsumer(output);
      const other = add?.opType === 'Add' && add.domain === '' ? (add.inputs[0] === output ? add.inputs[1] : add.inputs[0]) : undefined;
      const c = other ? constFloat(graph, index, other, opset) : undefined;
      if (c && c.dims.length === 1 && c.size === N) {
        bias = c;
        output = add!.outputs[0]!;
      } else add = undefined;
    }

    const packed = packForNBits(w, transB, K, N, blocks, gemm ? node.attrs.float('alpha', 1) : 1);
    const prefix = `${node.name}/nbits`;
    graph.initializers.set(`${prefix}_B`, packed.b);
    graph.initializers.set(`${prefix}_scales`, packed.scales);
    if (packed.zeroPoints) graph.initializers.set(`${prefix}_zero_points`, packed.zeroPoints);
    if (bias) graph.initializers.set(`${prefix}_bias`, bias);
    const attrs = Attributes.empty().with('K', K).with('N', N).with('bits', w.bits).with('block_size', blocks.size);
    replace.set(node, {
      name: node.name,
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      inputs: [node.inputs[0]!, `${prefix}_B`, `${prefix}_scales`, packed.zeroPoints ? `${prefix}_zero_points` : '', '', bias ? `${prefix}_bias` : ''],
      outputs: [output],
      attrs,
    });
    if (add) replace.set(add, undefined);
  }
  if (replace.size > 0) rewriteNodes(graph, replace);
}

interface BlockScheme {
  /** MatMulNBits block_size */
  readonly size: number;
  /** the DequantizeLinear parameters vary along K in blocks of this size (0: constant along K) */
  readonly dqBlock: number;
}

/** How the weight's scales map onto MatMulNBits blocks along K, or undefined when they cannot. */
function blockScheme(w: ConstDequant, transB: boolean, K: number): BlockScheme | undefined {
  const kAxis = transB ? 1 : 0;
  const l = w.layout;
  if (l.kind === 'tensor' || (l.kind === 'axis' && l.axis !== kAxis)) {
    // constant along K: any block size works; the largest (<= 128) that K needs keeps scales few
    let size = 16;
    while (size < 128 && size < K) size *= 2;
    return { size, dqBlock: 0 };
  }
  if (l.kind === 'blocked' && l.axis === kAxis && l.blockSize >= 16 && (l.blockSize & (l.blockSize - 1)) === 0) return { size: l.blockSize, dqBlock: l.blockSize };
  return undefined;
}

function scaled(t: AnyTensor, factor: number, dims: readonly number[]): AnyTensor {
  const v = toNumbers(t);
  return new Tensor('float32', Float32Array.from(v, (x) => x * factor), dims);
}

/** B [N, blocks, blob] uint8 (low bits first), scales [N, blocks], zero points packed like B. */
function packForNBits(w: ConstDequant, transB: boolean, K: number, N: number, s: BlockScheme, alpha: number): { b: AnyTensor; scales: AnyTensor; zeroPoints: AnyTensor | undefined } {
  const { bits } = w;
  const offset = w.signed ? 1 << (bits - 1) : 0;
  const nBlocks = Math.ceil(K / s.size);
  const blob = (s.size * bits) / 8;
  const q = toNumbers(w.q);
  const sv = toNumbers(w.scale);
  const zv = w.zp ? toNumbers(w.zp) : undefined;
  const map = paramIndexMap(w.layout, w.q.size);
  const at = (k: number, n: number): number => (transB ? n * K + k : k * N + n);
  const b = new Uint8Array(N * nBlocks * blob);
  const scales = new Float32Array(N * nBlocks);
  const zps = new Float64Array(N * nBlocks);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const bitPos = (k % s.size) * bits;
      const byte = (n * nBlocks + Math.floor(k / s.size)) * blob + (bitPos >> 3);
      b[byte]! |= (q[at(k, n)]! + offset) << (bitPos & 7);
    }
    for (let j = 0; j < nBlocks; j++) {
      // the parameter of the block's first element (the same for the whole block by construction)
      const p = map ? map[at(j * s.size, n)]! : 0;
      scales[n * nBlocks + j] = sv[p]! * alpha;
      zps[n * nBlocks + j] = (zv ? zv[p]! : 0) + offset;
    }
  }
  const defaultZp = 1 << (bits - 1);
  let zeroPoints: AnyTensor | undefined;
  if (zps.some((z) => z !== defaultZp)) {
    const rowBytes = Math.ceil((nBlocks * bits) / 8);
    const zb = new Uint8Array(N * rowBytes);
    for (let n = 0; n < N; n++) for (let j = 0; j < nBlocks; j++) zb[n * rowBytes + ((j * bits) >> 3)]! |= zps[n * nBlocks + j]! << ((j * bits) & 7);
    zeroPoints = new Tensor('uint8', zb, [N, rowBytes]);
  }
  return { b: new Tensor('uint8', b, [N, nBlocks, blob]), scales: new Tensor('float32', scales, [N, nBlocks]), zeroPoints };
}
