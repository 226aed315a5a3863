// Mutated and truncated ONNX files must load or fail with a KilnError: no crash, hang or untyped error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { paddleOcrModel } from '../helpers/models.ts';
import { InferenceSession, KilnError } from '../../runtime/node.ts';

const original = new Uint8Array(readFileSync(paddleOcrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx')));
const ITERATIONS = 2000;

function mutate(src: Uint8Array): Uint8Array {
  const kind = Math.floor(Math.random() * 4);
  const at = Math.floor(Math.random() * src.length);
  switch (kind) {
    case 0: return src.subarray(0, at); // truncation
    case 1: { // flip a few bytes
      const out = src.slice();
      for (let i = 0; i < 1 + Math.floor(Math.random() * 8); i++) out[Math.floor(Math.random() * out.length)] = Math.floor(Math.random() * 256);
      return out;
    }
    case 2: { // insert garbage
      const junk = Uint8Array.from({ length: 1 + Math.floor(Math.random() * 16) }, () => Math.floor(Math.random() * 256));
      const out = new Uint8Array(src.length + junk.length);
      out.set(src.subarray(0, at));
      out.set(junk, at);
      out.set(src.subarray(at), at + junk.length);
      return out;
    }
    default: { // overwrite a varint-heavy region (the graph's header) with max bytes
      const out = src.slice();
      const start = Math.floor(Math.random() * Math.min(out.length, 4096));
      out.fill(0xff, start, start + 4);
      return out;
    }
  }
}

test(`${ITERATIONS} mutated ONNX models load or fail with a typed error`, async () => {
  const outcomes = { loaded: 0, typed: 0 };
  const codes = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const bytes = mutate(original);
    try {
      const s = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
      outcomes.loaded++;
      await s.release();
    } catch (e) {
      if (!(e instanceof KilnError)) assert.fail(`iteration ${i}: untyped error ${String((e as Error).stack ?? e)}`);
      outcomes.typed++;
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
  }
  console.log(`fuzz: ${outcomes.loaded} loaded, ${outcomes.typed} typed errors ${JSON.stringify(Object.fromEntries(codes))}`);
  assert.equal(outcomes.loaded + outcomes.typed, ITERATIONS);
});
