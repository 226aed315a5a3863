// The "draw a digit" card: pad -> MNIST-style 28x28 image -> the bundle's preprocessing -> the CNN.
import { probabilitiesOf, renderBars } from '../ui/bars.ts';
import type { DemoModel } from '../models/demo-model.ts';
import { inputSpecOf, inputTensor, preprocess } from '../models/preprocess.ts';
import { DigitPad } from './digit-pad.ts';
import { toMnistPixels } from './mnist-image.ts';

export interface DigitResult {
  readonly digit: string;
  readonly probabilities: readonly number[];
  readonly modelVersion: string;
}

export class DigitPanel {
  readonly pad: DigitPad;
  private model: DemoModel | undefined;
  private inflight: Promise<DigitResult | undefined> | undefined;
  private followUp: Promise<DigitResult | undefined> | undefined;
  /** the last result, for the page's tests (window.kilnDemo) */
  last: DigitResult | undefined;

  constructor(
    private readonly els: { canvas: HTMLCanvasElement; clear: HTMLElement; guess: HTMLElement; confidence: HTMLElement; bars: HTMLElement },
    private readonly onError: (e: unknown) => void,
  ) {
    this.pad = new DigitPad(els.canvas, () => void this.classify().catch(onError));
    els.clear.addEventListener('click', () => {
      this.pad.clear();
      this.last = undefined;
      els.guess.textContent = '–';
      els.confidence.textContent = 'Draw a digit to start';
      els.bars.replaceChildren();
    });
  }

  use(model: DemoModel): void {
    this.model = model;
    void this.classify().catch(this.onError);
  }

  /**
   * Runs the model on the drawing as it is now. Calls made while a run is in flight share one
   * follow-up run, which sees the latest strokes, so a fast drawer never builds a queue.
   */
  classify(): Promise<DigitResult | undefined> {
    if (!this.inflight) {
      this.inflight = this.runOnce().finally(() => (this.inflight = undefined));
      return this.inflight;
    }
    this.followUp ??= this.inflight
      .catch(() => undefined)
      .then(() => {
        this.followUp = undefined;
        return this.classify();
      });
    return this.followUp;
  }

  private async runOnce(): Promise<DigitResult | undefined> {
    const model = this.model;
    const pixels = this.pad.hasInk ? toMnistPixels(this.els.canvas) : undefined;
    if (!model || !pixels) return undefined;
    const { session, spec } = model;
    const meta = session.inputMetadata[0]!;
    const input = inputSpecOf(spec.inputs, meta.name);
    const values = preprocess(pixels, input?.preprocessing ?? { kind: 'affine', scale: 1 / 255, offset: 0 });
    const out = await session.run({ [meta.name]: inputTensor(meta, values) });
    const outName = session.outputNames[0]!;
    const outSpec = spec.outputs?.find((o) => o.name === outName) ?? spec.outputs?.[0];
    const probs = probabilitiesOf(out[outName]!.data as Float32Array, outSpec?.kind);
    const labels = outSpec?.labels ?? Array.from({ length: probs.length }, (_, i) => String(i));
    let top = 0;
    probs.forEach((p, i) => (top = p > probs[top]! ? i : top));
    this.els.guess.textContent = labels[top] ?? String(top);
    this.els.confidence.textContent = `${(probs[top]! * 100).toFixed(0)}% sure`;
    renderBars(this.els.bars, labels, probs);
    this.last = { digit: labels[top] ?? String(top), probabilities: Array.from(probs), modelVersion: model.loaded.entry.version };
    return this.last;
  }
}
