// generate()'s decode-graph rewrite (runtime/graph/passes/kv-cache-write.ts) on the tiny GPT and on
// variants it must leave alone: what it replaces, what it declines, and that the session's own graph
// is untouched. Answers are checked end to end in test/generate/generate-inplace.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../core/tensor.ts';
import { encodeOnnxModel, type WriterModel, type WriterNode } from '../../runtime/format/onnx/onnx-writer.ts';
import { readOnnxModel } from '../../runtime/format/onnx/onnx-reader.ts';
import type { Graph, Node } from '../../runtime/graph/ir.ts';
import { KV_OFFSET_INPUT, writeKvAtOffset } from '../../runtime/graph/passes/kv-cache-write.ts';
import { findKvPairs } from '../../runtime/generate/kv-names.ts';
import { makeRng } from '../helpers/rng-core.ts';
import { tinyGpt } from '../helpers/tiny-gpt.ts';

const base = tinyGpt({ vocab: 16, embed: 16, heads: 2, layers: 2, maxPositions: 16 }, makeRng(7));

function graphOf(model: WriterModel): Graph {
  return readOnnxModel(encodeOnnxModel(model)).graph;
}
const pairsOf = (g: Graph): ReturnType<typeof findKvPairs> => findKvPairs(g.inputs.map((i) => i.name), g.outputs.map((o) => o.name));
const count = (g: Graph, op: string): number => g.nodes.filter((n) => n.opType === op).length;
const editNode = (model: WriterModel, output: string, edit: (n: WriterNode) => WriterNode): WriterModel => ({ ...model, nodes: model.nodes.map((n) => (n.outputs.includes(output) ? edit(n) : n)) });

test('the tiny GPT: each present written at the offset, each layer attending over the written part, the session graph untouched', () => {
  const g = graphOf(base);
  const nodesBefore = g.nodes.length;
  const initializersBefore = g.initializers.size;
  const r = writeKvAtOffset(g, pairsOf(g));
  assert.ok(r);
  assert.equal(count(r, 'KvCacheWrite'), 4);
  assert.equal(count(r, 'KvCacheAttention'), 2);
  assert.equal(count(r, 'Concat'), 0);
  assert.equal(count(r, 'Softmax'), 0);
  assert.equal(count(r, 'Where'), 0, 'the mask nodes, now unused, are gone');
  assert.deepEqual(r.inputs.at(-1), { name: KV_OFFSET_INPUT, dtype: 'float32', dims: [1] });
  const attention = r.nodes.find((n) => n.opType === 'KvCacheAttention')!;
  assert.ok(Math.abs(attention.attrs.float('scale')! - 1 / Math.sqrt(8)) < 1e-6, 'the scale is the Mul constant');
  assert.equal(g.nodes.length, nodesBefore);
  assert.equal(g.initializers.size, initializersBefore);
  assert.equal(count(g, 'Concat'), 4);
});

test('declined: a Concat on another axis, a past read elsewhere, a present made by an attention op', () => {
  const present = 'present.0.key';
  const variants: [string, WriterModel][] = [
    ['Concat on axis 1', editNode(base, present, (n) => ({ ...n, attrs: { axis: 1 } }))],
    ['past read by Shape', { ...base, nodes: [...base.nodes, { opType: 'Shape', inputs: ['past_key_values.0.key'], outputs: ['past_shape'] }], outputs: [...base.outputs, { name: 'past_shape', dtype: 'int64' }] }],
    ['present from MultiHeadAttention', editNode(base, present, (n) => ({ ...n, opType: 'MultiHeadAttention', domain: 'com.microsoft', attrs: { num_heads: 2 } }))],
  ];
  for (const [what, model] of variants) {
    const g = graphOf(model);
    assert.equal(writeKvAtOffset(g, pairsOf(g)), undefined, what);
  }
});

test('an attention that is not a mask-then-softmax over the caches keeps its nodes (the write still applies)', () => {
  // The Where's other branch is 0.5, not a mask value: dropping it would change the answer.
  const model: WriterModel = { ...editNode(base, 'l0_masked', (n) => ({ ...n, inputs: [n.inputs[0]!, n.inputs[1]!, 'half'] })), initializers: { ...(base.initializers as Record<string, Tensor>), half: new Tensor('float32', [0.5], []) } };
  const g = graphOf(model);
  const r = writeKvAtOffset(g, pairsOf(g));
  assert.ok(r);
  assert.equal(count(r, 'KvCacheWrite'), 4);
  assert.equal(count(r, 'KvCacheAttention'), 1, 'layer 1 only');
  assert.equal(count(r, 'Softmax'), 1);
});

test('fused attention ops: MultiHeadAttention becomes writes + attention over the written part, GroupQueryAttention takes the offset', () => {
  const cfg = { vocab: 16, embed: 16, heads: 2, layers: 2, maxPositions: 16 };
  const mha = tinyGpt({ ...cfg, attention: 'mha' }, makeRng(7));
  const g = graphOf(mha);
  const initializersBefore = g.initializers.size;
  const r = writeKvAtOffset(g, pairsOf(g));
  assert.ok(r, 'the MHA decoder is rewritten');
  assert.equal(count(r, 'MultiHeadAttention'), 0);
  assert.equal(count(r, 'KvCacheWrite'), 4);
  assert.equal(count(r, 'KvCacheAttention'), 2);
  assert.ok(Math.abs(r.nodes.find((n) => n.opType === 'KvCacheAttention')!.attrs.float('scale')! - 1 / Math.sqrt(8)) < 1e-6, 'the default scale 1/sqrt(head size)');
  assert.equal(g.initializers.size, initializersBefore, 'the session graph keeps its initializers');
  assert.equal(count(g, 'MultiHeadAttention'), 2);

  const gqa = graphOf(tinyGpt({ ...cfg, attention: 'gqa' }, makeRng(7)));
  const rg = writeKvAtOffset(gqa, pairsOf(gqa));
  assert.ok(rg, 'the GQA decoder is rewritten');
  const node = rg.nodes.find((n) => n.opType === 'GroupQueryAttention')!;
  const seqlens = rg.nodes.find((n) => n.outputs[0] === node.inputs[5])!;
  assert.deepEqual([seqlens.opType, seqlens.inputs[0]], ['Cast', KV_OFFSET_INPUT], 'seqlens_k is the offset');
  assert.equal(rg.nodes.find((n) => n.outputs[0] === node.inputs[6])!.opType, 'Cast');
  assert.equal(count(rg, 'ReduceSum'), 0, "the model's own seqlens_k derivation is gone");

  // MHA's other forms: bias slices added, packed parts sliced apart, attention_bias handed to the attention
  const forms: [string, Parameters<typeof tinyGpt>[0], (r: Graph) => void][] = [
    ['bias', { ...cfg, attention: 'mha', mhaBias: true }, (r) => assert.equal(count(r, 'Add') - count(graphOf(tinyGpt({ ...cfg, attention: 'mha', mhaBias: true }, makeRng(7))), 'Add'), 3 * 2, 'Q, K and V each get their bias slice')],
    ['packed QKV', { ...cfg, attention: 'mha', packed: 'qkv' }, (r) => assert.equal(r.nodes.filter((n) => n.opType === 'Slice' && n.name.includes('/kv_')).length, 3 * 2)],
    ['packed KV', { ...cfg, attention: 'mha', packed: 'kv' }, (r) => assert.equal(r.nodes.filter((n) => n.opType === 'Slice' && n.name.includes('/kv_')).length, 2 * 2)],
    ['attention_bias', { ...cfg, attention: 'mha', attentionBias: true }, (r) => assert.ok(r.nodes.filter((n) => n.opType === 'KvCacheAttention').every((n) => n.inputs[4] === 'attention_bias'), 'the bias is the attention\'s fifth input')],
  ];
  for (const [what, config, check] of forms) {
    const gf = graphOf(tinyGpt(config, makeRng(7)));
    const rf = writeKvAtOffset(gf, pairsOf(gf));
    assert.ok(rf, `MHA with ${what} is rewritten`);
    assert.equal(count(rf, 'MultiHeadAttention'), 0, what);
    assert.equal(count(rf, 'KvCacheAttention'), 2, what);
    check(rf);
  }
  const ga = graphOf(tinyGpt({ ...cfg, attention: 'gqa', attentionBias: true }, makeRng(7)));
  const ra = writeKvAtOffset(ga, pairsOf(ga));
  assert.ok(ra, 'GQA with attention_bias is rewritten (its last axis follows the mask, as long as the cache)');
  assert.ok(ra.nodes.filter((n) => n.opType === 'GroupQueryAttention').every((n) => n.inputs[10] === 'attention_bias'));

  const otherHeads = editNode(mha, 'l0_ctx', (n) => ({ ...n, attrs: { num_heads: 1, unidirectional: 1 } }));
  const gh = graphOf(otherHeads);
  assert.equal(writeKvAtOffset(gh, pairsOf(gh)), undefined, 'MHA whose num_heads is not the cache\'s: declined');
  const noKey = editNode(mha, 'l0_ctx', (n) => ({ ...n, inputs: n.inputs.map((x, i) => (i === 1 ? '' : x)) }));
  const gk = graphOf(noKey);
  assert.equal(writeKvAtOffset(gk, pairsOf(gk)), undefined, 'MHA with a value but no key: declined');
});

const stacked = tinyGpt({ vocab: 16, embed: 16, heads: 2, layers: 2, maxPositions: 16, attention: 'stacked' }, makeRng(7));

test('com.microsoft Attention with a stacked past_N: one KvCacheWrite of keys and values, KvCacheAttention over the same tensor', () => {
  const g = graphOf(stacked);
  const r = writeKvAtOffset(g, pairsOf(g));
  assert.ok(r);
  assert.equal(count(r, 'Attention'), 0);
  assert.equal(count(r, 'KvCacheWrite'), 2, 'one write per stacked cache');
  assert.equal(count(r, 'KvCacheAttention'), 2);
  for (let l = 0; l < 2; l++) {
    const write: Node = r.nodes.find((n) => n.opType === 'KvCacheWrite' && n.outputs[0] === `present_${l}`)!;
    assert.equal(write.inputs[0], `past_${l}`);
    const attention: Node = r.nodes.find((n) => n.opType === 'KvCacheAttention' && n.inputs[1] === `present_${l}`)!;
    assert.equal(attention.inputs[2], '', 'V is the second half of the stacked cache, not a slice of it');
    assert.ok(Math.abs(attention.attrs.float('scale')! - 1 / Math.sqrt(8)) < 1e-6, 'the default scale 1/sqrt(head size)');
  }
  assert.deepEqual(r.nodes.filter((n) => n.inputs.includes('attention_mask')).map((n) => n.name), [], 'mask_index (attention_mask as int32) is no longer read');
  assert.equal(count(g, 'Attention'), 2, 'the session graph is untouched');
});

test('declined for com.microsoft Attention: a past read elsewhere, num_heads not the cache\'s, weights not an initializer, past_sequence_length', () => {
  const layer0 = (edit: (n: WriterNode) => WriterNode): WriterModel => editNode(stacked, 'present_0', edit);
  const variants: [string, WriterModel][] = [
    ['past read by Shape', { ...stacked, nodes: [...stacked.nodes, { opType: 'Shape', inputs: ['past_0'], outputs: ['past_shape'] }], outputs: [...stacked.outputs, { name: 'past_shape', dtype: 'int64' }] }],
    ['num_heads 4 on a 2-head cache', layer0((n) => ({ ...n, attrs: { ...n.attrs, num_heads: 4 } }))],
    ['weights made by a node', { ...layer0((n) => ({ ...n, inputs: n.inputs.map((x, i) => (i === 1 ? 'w_made' : x)) })), nodes: [{ opType: 'Identity', inputs: ['l0_wqkv'], outputs: ['w_made'] }, ...layer0((n) => ({ ...n, inputs: n.inputs.map((x, i) => (i === 1 ? 'w_made' : x)) })).nodes] }],
    ['a past_sequence_length input', { ...layer0((n) => ({ ...n, inputs: [...n.inputs, '', 'past_len'] })), inputs: [...stacked.inputs, { name: 'past_len', dtype: 'int32', dims: [1] }] }],
  ];
  for (const [what, model] of variants) {
    const g = graphOf(model);
    assert.equal(writeKvAtOffset(g, pairsOf(g)), undefined, what);
  }
});
