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
  private running = false;
  private again = false;
  /** the last result, for the page's tests (window.kilnDemo) */
  last: DigitResult | undefined;

  constructor(private readonly els: { canvas: HTMLCanvasElement; clear: HTMLElement; guess: HTMLElement; confidence: HTMLElement; bars: HTMLElement }) {
    this.pad = new DigitPad(els.canvas, () => void this.classify());
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
    void this.classify();
  }

  /** Runs the model on the drawing; calls arriving while a run is in flight coalesce into one more run. */
  async classify(): Promise<DigitResult | undefined> {
    if (this.running) {
      this.again = true;
      return undefined;
    }
    const model = this.model;
    const pixels = this.pad.hasInk ? toMnistPixels(this.els.canvas) : undefined;
    if (!model || !pixels) return undefined;
    this.running = true;
    try {
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
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        void this.classify();
      }
    }
  }
}
