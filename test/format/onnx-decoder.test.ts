// The static ONNX decoder (runtime/format/onnx/onnx-decoder.ts) against protobufjs' reflection decoder
// (light.js with `long`, what the reader used before) on the same bytes: real models and random
// messages with int64 edge values, packed and unpacked repeated fields, unknown fields, nested graphs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import protobuf from 'protobufjs/light.js';
import { decodeOnnxMessage } from '../../runtime/format/onnx/onnx-decoder.ts';
import { longToBigInt, type LongLike } from '../../runtime/format/onnx/long.ts';
import { onnxSchema } from '../../runtime/format/onnx/onnx-schema.ts';
import { paddleOcrModel } from '../helpers/models.ts';
import { testRng, type Rng } from '../helpers/random.ts';

const root = protobuf.Root.fromJSON(onnxSchema);
const oracleType = (name: string): protobuf.Type => root.lookupType(`onnx.${name}`);

const INT64_EDGES = ['0', '1', '-1', '127', '128', '-128', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
  '4294967295', '4294967296', '-4294967296', '-4294967297', '9223372036854775807', '-9223372036854775808', '4611686018427387904'];
const UINT64_EDGES = ['0', '1', '4294967296', '9007199254740993', '18446744073709551615', '9223372036854775808'];

/**
 * A comparable form: Longs and LongLikes become bigint strings, bytes become arrays; absent repeated
 * fields and scalars holding their default vanish (light.js drops a default-valued scalar read from the
 * wire; the static decoder keeps it, see the dim_value test below).
 */
function normalize(v: unknown, int64 = false): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map((x) => normalize(x, int64));
  if (typeof v === 'number' && int64) return `${BigInt(v)}n`;
  if (v !== null && typeof v === 'object') {
    if ('low' in v && 'high' in v) return `${longToBigInt(v as LongLike)}n`;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (Array.isArray(x) && x.length === 0) continue; // light.js leaves empty repeated fields on the prototype
      const n = normalize(x, INT64_FIELDS.has(k));
      if (n === 0 || n === '' || n === '0n' || (Array.isArray(n) && n.length === 0)) continue;
      out[k] = n;
    }
    return out;
  }
  return v;
}
const INT64_FIELDS = new Set(['dims', 'int64Data', 'uint64Data', 'irVersion', 'modelVersion', 'version', 'i', 'ints', 'dimValue']);

function oracle(type: string, bytes: Uint8Array): unknown {
  return normalize(oracleType(type).decode(bytes));
}

function randomTensor(rng: Rng, name: string): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  return {
    name,
    dataType: 1 + rng.int(16),
    dims: Array.from({ length: rng.int(4) }, () => pick(INT64_EDGES)),
    floatData: rng.floats(rng.int(5), -10, 10),
    int32Data: Array.from({ length: rng.int(5) }, () => rng.int(2 ** 31) * (rng.int(2) ? -1 : 1)),
    int64Data: Array.from({ length: rng.int(5) }, () => pick(INT64_EDGES)),
    uint64Data: Array.from({ length: rng.int(3) }, () => pick(UINT64_EDGES)),
    doubleData: rng.floats(rng.int(3), -1e300, 1e300),
    stringData: Array.from({ length: rng.int(3) }, () => rng.bytes(rng.int(6))),
    rawData: rng.bytes(rng.int(40)),
    externalData: rng.int(2) ? [{ key: 'location', value: `w${rng.int(9)}.bin` }, { key: 'offset', value: '64' }] : [],
    dataLocation: rng.int(2),
  };
}

function randomGraph(rng: Rng, depth: number): Record<string, unknown> {
  const node = (i: number): Record<string, unknown> => ({
    input: [`x${i}`, ''],
    output: [`y${i}`],
    name: `n${i}`,
    opType: ['Add', 'Conv', 'If', 'Slice'][rng.int(4)],
    domain: rng.int(2) ? '' : 'com.microsoft',
    attribute: [
      { name: 'f', type: 1, f: rng.range(-5, 5) },
      { name: 'i', type: 2, i: INT64_EDGES[rng.int(INT64_EDGES.length)] },
      { name: 's', type: 3, s: new TextEncoder().encode(`é${i}`) },
      { name: 'ints', type: 7, ints: INT64_EDGES.slice(rng.int(8)) },
      { name: 'floats', type: 6, floats: rng.floats(3, -1, 1) },
      { name: 't', type: 4, t: randomTensor(rng, `attr${i}`) },
      ...(depth > 0 ? [{ name: 'then_branch', type: 5, g: randomGraph(rng, depth - 1) }] : []),
    ],
  });
  const info = (name: string): Record<string, unknown> => ({
    name,
    type: { tensorType: { elemType: 1 + rng.int(13), shape: { dim: [{ dimValue: INT64_EDGES[rng.int(INT64_EDGES.length)] }, { dimParam: 'batch' }, {}] } } },
  });
  return {
    node: Array.from({ length: 1 + rng.int(3) }, (_, i) => node(i)),
    name: 'g',
    initializer: Array.from({ length: rng.int(3) }, (_, i) => randomTensor(rng, `w${i}`)),
    input: [info('x')],
    output: [info('y')],
    valueInfo: [info('v'), { name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } }],
  };
}

test('random models decode as protobufjs reflection decodes them (int64 edges, nesting, all field kinds)', () => {
  const rng = testRng(import.meta.url, 'random models');
  const Model = oracleType('ModelProto');
  for (let k = 0; k < 200; k++) {
    const model = {
      irVersion: INT64_EDGES[rng.int(INT64_EDGES.length)], producerName: 'p', producerVersion: '1', domain: 'd', modelVersion: '7', docString: 'doc',
      graph: randomGraph(rng, 2),
      opsetImport: [{ domain: '', version: '17' }, { domain: 'com.microsoft', version: '1' }],
      metadataProps: [{ key: 'k', value: 'v' }],
    };
    const bytes = Model.encode(Model.fromObject(model)).finish();
    assert.deepEqual(normalize(decodeOnnxMessage('ModelProto', bytes)), oracle('ModelProto', bytes), `model #${k}`);
  }
});

test('unpacked repeated numbers and unknown fields of every wire type decode as protobufjs decodes them', () => {
  const w = protobuf.Writer.create();
  // TensorProto: dims (1) unpacked twice, an unknown varint (30), fixed64 (31), bytes (32), fixed32 (33), group (34),
  // float_data (4) unpacked, int64_data (7) packed, name (8).
  w.uint32((1 << 3) | 0).int64('9223372036854775807');
  w.uint32((1 << 3) | 0).int64(-3);
  w.uint32((30 << 3) | 0).uint64('18446744073709551615');
  w.uint32((31 << 3) | 1).fixed64(5);
  w.uint32((32 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
  w.uint32((33 << 3) | 5).fixed32(9);
  w.uint32((34 << 3) | 3).uint32((1 << 3) | 0).uint32(5).uint32((2 << 3) | 2).string('in a group').uint32((34 << 3) | 4); // a group (wire types 3/4)
  w.uint32((4 << 3) | 5).float(1.5);
  w.uint32((4 << 3) | 5).float(-2.25);
  w.uint32((7 << 3) | 2).fork().int64(1).int64('-9223372036854775808').int64(300).ldelim();
  w.uint32((8 << 3) | 2).string('weights');
  const bytes = w.finish();
  const ours = normalize(decodeOnnxMessage('TensorProto', bytes));
  assert.deepEqual(ours, oracle('TensorProto', bytes));
  assert.deepEqual(ours, { dims: ['9223372036854775807n', '-3n'], floatData: [1.5, -2.25], int64Data: ['1n', '-9223372036854775808n', '300n'], name: 'weights' });
});

test('an explicit dim_value 0 stays present (a 0-sized dim, not an unknown one)', () => {
  const Dim = oracleType('TensorShapeProto.Dimension');
  const bytes = protobuf.Writer.create().uint32((1 << 3) | 0).int64(0).finish();
  assert.deepEqual(decodeOnnxMessage('Dimension', bytes), { dimValue: 0 });
  assert.equal(Object.hasOwn(Dim.decode(bytes), 'dimValue'), false, 'light.js dropped it (the old behaviour)');
});

test('a real model decodes as protobufjs decodes it', () => {
  const bytes = new Uint8Array(readFileSync(paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx')));
  assert.deepEqual(normalize(decodeOnnxMessage('ModelProto', bytes)), oracle('ModelProto', bytes));
});

test('truncated and overrunning input throws (the reader turns it into INVALID_MODEL)', () => {
  const Model = oracleType('ModelProto');
  const bytes = Model.encode(Model.fromObject({ graph: randomGraph(testRng(import.meta.url, 'truncated'), 1) })).finish();
  for (const cut of [1, 2, 5, 17, bytes.length >> 1, bytes.length - 1]) {
    assert.throws(() => decodeOnnxMessage('ModelProto', bytes.subarray(0, cut)), `cut at ${cut}`);
  }
  // A graph nested deeper than protobufjs' limit is refused, not recursed into until the stack runs out.
  let inner: Uint8Array = new Uint8Array(0);
  for (let d = 0; d < 150; d++) {
    const attr = protobuf.Writer.create().uint32((6 << 3) | 2).bytes(inner).finish(); // AttributeProto.g
    const node = protobuf.Writer.create().uint32((5 << 3) | 2).bytes(attr).finish(); // NodeProto.attribute
    inner = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(node).finish(); // GraphProto.node
  }
  assert.throws(() => decodeOnnxMessage('GraphProto', inner), /max depth/);
});
