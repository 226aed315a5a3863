// The "Write a sonnet" card: a prompt, Generate / Stop, temperature and top-k, and the characters
// streamed into the page by generate()'s onToken while the session runs in the worker. Tokens/s
// counts the decode steps only (the prompt's prefill is one run and would flatter the first token).
import { generate } from '../../../runtime/worker/browser-entry.ts';
import type { DemoModel } from '../models/demo-model.ts';
import { charTokenizerOf, type CharTokenizer } from './char-tokenizer.ts';

/** Characters written per Generate press, at most (the model's position limit may cap it lower). */
const MAX_NEW_TOKENS = 400;

export interface SonnetElements {
  readonly prompt: HTMLTextAreaElement;
  readonly generate: HTMLButtonElement;
  readonly stop: HTMLButtonElement;
  readonly temperature: HTMLInputElement;
  readonly temperatureValue: HTMLElement;
  readonly topK: HTMLInputElement;
  readonly output: HTMLElement;
  readonly stats: HTMLElement;
}

export class SonnetPanel {
  private model: DemoModel | undefined;
  private tokenizer: CharTokenizer | undefined;
  private controller: AbortController | undefined;
  private running: Promise<void> | undefined;
  /** what the last generation ended with (for tests and the page) */
  lastFinish: 'length' | 'eos' | 'stopped' | 'error' | undefined;
  /** decode tokens/s of the last generation */
  lastTokensPerSecond = 0;

  constructor(private readonly els: SonnetElements, private readonly onError: (e: unknown) => void) {
    els.generate.addEventListener('click', () => void this.start());
    els.stop.addEventListener('click', () => this.stop());
    const showTemperature = (): void => void (els.temperatureValue.textContent = Number(els.temperature.value).toFixed(1));
    els.temperature.addEventListener('input', showTemperature);
    showTemperature();
    this.setRunning(false);
    els.generate.disabled = true;
  }

  use(model: DemoModel): void {
    this.stop();
    this.model = model;
    this.tokenizer = charTokenizerOf(model.spec);
    this.els.generate.disabled = false;
  }

  /** Starts a generation from the prompt box (a running one is stopped first). */
  async start(): Promise<void> {
    this.stop();
    await this.running;
    this.running = this.write();
    await this.running;
  }

  stop(): void {
    this.controller?.abort();
  }

  private setRunning(on: boolean): void {
    this.els.generate.disabled = on || !this.model;
    this.els.stop.disabled = !on;
    document.body.dataset.sonnet = on ? 'writing' : 'idle';
  }

  private maxPositions(): number {
    const decoder = this.model?.spec.metadata?.['decoder'];
    const n = typeof decoder === 'object' && decoder !== null ? (decoder as { maxPositions?: unknown }).maxPositions : undefined;
    return typeof n === 'number' && n > 1 ? n : 256;
  }

  private async write(): Promise<void> {
    const model = this.model;
    const tokenizer = this.tokenizer;
    if (!model || !tokenizer) return;
    const { ids, dropped } = tokenizer.encode(this.els.prompt.value);
    if (ids.length === 0) {
      this.els.stats.textContent = 'Type a prompt first (letters the model knows).';
      return;
    }
    const limit = this.maxPositions();
    const inputIds = ids.slice(-Math.floor(limit / 2)); // keep room for the answer
    const maxNewTokens = Math.min(MAX_NEW_TOKENS, limit - inputIds.length);
    const controller = new AbortController();
    this.controller = controller;
    this.setRunning(true);
    this.els.output.textContent = '';
    const promptEl = document.createElement('span');
    promptEl.className = 'prompt-echo';
    promptEl.textContent = inputIds.map((i) => tokenizer.decode(i)).join('');
    const written = document.createTextNode('');
    this.els.output.append(promptEl, written);
    const note = dropped.length > 0 ? ` · left out ${JSON.stringify([...new Set(dropped)].join(''))} (not in the vocabulary)` : '';
    let first = 0;
    let count = 0;
    const showStats = (): void => {
      const seconds = (performance.now() - first) / 1000;
      this.lastTokensPerSecond = count > 1 && seconds > 0 ? (count - 1) / seconds : 0;
      this.els.stats.textContent = `${count} tokens · ${this.lastTokensPerSecond > 0 ? this.lastTokensPerSecond.toFixed(1) : '–'} tokens/s${note}`;
      this.els.stats.dataset.tokens = String(count);
      this.els.stats.dataset.tokensPerSecond = this.lastTokensPerSecond.toFixed(2);
    };
    this.els.stats.textContent = `Reading the prompt…${note}`;
    try {
      const topK = Math.max(0, Math.floor(Number(this.els.topK.value) || 0));
      const r = await generate(model.session, {
        inputIds, maxNewTokens, temperature: Number(this.els.temperature.value), ...(topK > 0 ? { topK } : {}), signal: controller.signal,
        onToken: (token) => {
          if (count === 0) first = performance.now(); // decode speed is timed from the first new token
          count++;
          written.appendData(tokenizer.decode(token));
          showStats();
        },
      });
      this.lastFinish = r.finishReason;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ABORTED') this.lastFinish = 'stopped';
      else {
        this.lastFinish = 'error';
        this.onError(e);
      }
    } finally {
      if (this.controller === controller) this.controller = undefined;
      showStats();
      this.setRunning(false);
    }
  }
}
