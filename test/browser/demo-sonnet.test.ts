// The demo's "Write a sonnet" card (issue 13, item 5) in Chromium against the production build: the
// trained GPT writes characters into the page with tokens/s and the backend shown, Stop ends a
// generation, and after an offline reload the model runs from storage and writes the same greedy text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openDemoBed, waitReady, type DemoBed } from './helpers/demo-bed.ts';

let bed: DemoBed | undefined;
before(async () => {
  bed = await openDemoBed();
});
after(async () => {
  await bed?.close();
});

const PROMPT = 'Shall I compare thee';

interface Written { text: string; tokens: number; tokensPerSecond: number; stats: string; finish: string | undefined; backend: string }

/**
 * Presses Generate with temperature 0 (greedy: the same text every time) and presses Stop from the
 * page as soon as `stopAt` characters are written (a MutationObserver on the counter, so the stop
 * lands between two decode steps, not after a timer); resolves when the card is idle again.
 */
async function writeAndStop(page: Page, stopAt: number): Promise<Written> {
  await page.locator('#sonnet-prompt').fill(PROMPT);
  await page.locator('#sonnet-temperature').fill('0');
  await page.waitForFunction(() => !(document.getElementById('sonnet-generate') as HTMLButtonElement).disabled, undefined, { timeout: 60_000 });
  await page.evaluate((stopAt) => {
    const stats = document.getElementById('sonnet-stats')!;
    const observer = new MutationObserver(() => {
      if (Number(stats.dataset.tokens) >= stopAt) {
        observer.disconnect();
        document.getElementById('sonnet-stop')!.click();
      }
    });
    observer.observe(stats, { attributes: true, attributeFilter: ['data-tokens'] });
  }, stopAt);
  await page.locator('#sonnet-generate').click();
  await page.waitForFunction(() => document.body.dataset.sonnet === 'writing', undefined, { timeout: 10_000 }).catch(() => undefined);
  await page.waitForFunction(() => document.body.dataset.sonnet === 'idle', undefined, { timeout: 60_000 });
  return page.evaluate(() => {
    const stats = document.getElementById('sonnet-stats')!;
    const demo = (globalThis as { kilnDemo?: { sonnet: { lastFinish?: string } } }).kilnDemo!;
    return {
      text: document.getElementById('sonnet-output')!.textContent ?? '',
      tokens: Number(stats.dataset.tokens),
      tokensPerSecond: Number(stats.dataset.tokensPerSecond),
      stats: stats.textContent ?? '',
      finish: demo.sonnet.lastFinish,
      backend: document.getElementById('sonnet-backend')!.textContent ?? '',
    };
  });
}

function assertWritten(w: Written, stopAt: number): void {
  assert.equal(w.finish, 'stopped', `Stop ended the generation (${w.stats})`);
  // onToken runs before the next step starts, so the stop lands right after the stopAt-th character
  assert.ok(w.tokens >= stopAt && w.tokens <= stopAt + 1, `${w.tokens} characters written, stopped at ${stopAt}`);
  assert.ok(w.text.startsWith(PROMPT), `the output starts with the prompt: ${JSON.stringify(w.text)}`);
  assert.equal([...w.text].length, [...PROMPT].length + w.tokens, 'one character per token, streamed into the page');
  assert.ok(w.tokensPerSecond > 0, `tokens/s shown: ${w.stats}`);
  assert.match(w.stats, new RegExp(`^${w.tokens} tokens · \\d+(\\.\\d)? tokens/s`));
  assert.match(w.backend, /^(WebGPU|CPU)$/);
}

test('Write a sonnet: the trained GPT streams characters with tokens/s, Stop ends it, and it writes the same text offline', { timeout: 180_000 }, async () => {
  assert.ok(bed, 'the test bed did not start (see the before hook)');
  assert.ok(bed.realModels, 'demo/models holds the trained bundles (the stand-ins have no text model)');
  const visit = await bed.open();
  const { page, context } = visit;
  assert.match((await page.locator('#sonnet-model').textContent()) ?? '', /^sonnets-gpt-int4 · v\d+ · .+ · (downloaded|from offline storage)$/);
  const online = await writeAndStop(page, 60);
  assertWritten(online, 60);
  console.log(`# online on ${online.backend}: ${online.stats}: ${JSON.stringify(online.text)}`);
  // a sonnet's characters: the model writes letters and spaces, not one repeated symbol
  assert.ok(/[a-z]{2,} [a-z]/i.test(online.text.slice(PROMPT.length)), `English-like output: ${JSON.stringify(online.text)}`);

  assert.deepEqual(visit.errors, []);

  await page.waitForFunction(() => document.body.dataset.offlineReady === 'true', undefined, { timeout: 30_000 });
  await context.setOffline(true);
  try {
    await page.reload();
    await waitReady(page);
    assert.match((await page.locator('#sonnet-model').textContent()) ?? '', /from offline storage/);
    const offline = await writeAndStop(page, 60);
    assertWritten(offline, 60);
    assert.equal(offline.text, online.text, 'greedy decoding writes the same text offline');
    // offline the page still asks the network for its config and for model updates, and is told no
    assert.deepEqual(visit.errors.filter((e) => !/net::ERR_INTERNET_DISCONNECTED/.test(e)), []);
  } finally {
    await context.setOffline(false);
    await context.close();
  }
});
