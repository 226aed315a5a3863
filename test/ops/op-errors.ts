// Bad-input cases as data: each must fail while planning with a typed KilnError naming the node.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KilnError } from '../../core/errors.ts';
import { InferenceSession } from '../../runtime/node.ts';
import { buildCaseModel, type OpCase } from './op-harness.ts';

export interface BadInputCase extends OpCase {
  /** what the message must say (expected vs given) */
  readonly error: RegExp;
}

export function runBadInputCases(family: string, cases: readonly BadInputCase[]): void {
  describe(`ops: ${family} bad input`, () => {
    for (const c of cases) {
      test(`${family}/${c.name}`, async () => {
        const { bytes, feeds } = buildCaseModel(c);
        const run = async (): Promise<void> => {
          const s = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
          try {
            await s.run(feeds);
          } finally {
            await s.release();
          }
        };
        await assert.rejects(run, (e: unknown) => e instanceof KilnError && ['INVALID_GRAPH', 'UNSUPPORTED_FEATURE'].includes(e.code) && e.message.includes(`node '${c.op}_0'`) && c.error.test(e.message));
      });
    }
  });
}
