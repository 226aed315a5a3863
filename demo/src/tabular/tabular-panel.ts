// The tabular card: one slider per feature, the predicted class, and simulated traffic with an
// adjustable shift that the drift monitor should notice.
import type { DemoModel } from '../models/demo-model.ts';
import { inputSpecOf, inputTensor, preprocess } from '../models/preprocess.ts';
import { probabilitiesOf, renderBars } from '../ui/bars.ts';
import { featuresOf, type FeatureInfo } from './features.ts';
import { sampleRow } from './traffic.ts';

/** Simulated visitors per second while traffic is on. */
const TRAFFIC_RATE = 25;

export class TabularPanel {
  private model: DemoModel | undefined;
  private features: FeatureInfo[] = [];
  private inputs: HTMLInputElement[] = [];
  private trafficTimer = 0;
  private trafficBusy = false;
  /** rows sent by the traffic simulation (for tests and the page) */
  trafficRuns = 0;

  constructor(private readonly els: { sliders: HTMLElement; guess: HTMLElement; bars: HTMLElement; traffic: HTMLInputElement; shift: HTMLInputElement; shiftValue: HTMLElement }) {
    els.traffic.addEventListener('change', () => this.setTraffic(els.traffic.checked));
    els.shift.addEventListener('input', () => (els.shiftValue.textContent = `${Number(els.shift.value).toFixed(2).replace(/\.?0+$/, '')} σ`));
  }

  use(model: DemoModel): void {
    this.model = model;
    const meta = model.session.inputMetadata[0]!;
    const count = meta.shape[meta.shape.length - 1];
    const refs = model.spec.metadata?.drift?.inputs;
    this.features = featuresOf(typeof count === 'number' && count > 0 ? count : 4, inputSpecOf(model.spec.inputs, meta.name), meta.name, refs);
    this.buildSliders();
    void this.predictFromSliders();
  }

  get shift(): number {
    return Number(this.els.shift.value);
  }

  setTraffic(on: boolean): void {
    this.els.traffic.checked = on;
    window.clearInterval(this.trafficTimer);
    this.trafficTimer = on ? window.setInterval(() => void this.trafficTick(), 1000 / TRAFFIC_RATE) : 0;
  }

  private buildSliders(): void {
    this.inputs = [];
    const rows = this.features.map((f) => {
      const row = document.createElement('label');
      row.className = 'slider';
      const name = document.createElement('span');
      name.textContent = f.name;
      const input = document.createElement('input');
      input.type = 'range';
      input.min = String(f.min);
      input.max = String(f.max);
      input.step = String((f.max - f.min) / 100);
      input.value = String(f.initial);
      const out = document.createElement('output');
      const show = (): void => void (out.textContent = Number(input.value).toFixed(2));
      show();
      input.addEventListener('input', () => {
        show();
        void this.predictFromSliders();
      });
      this.inputs.push(input);
      row.append(name, input, out);
      return row;
    });
    this.els.sliders.replaceChildren(...rows);
  }

  private async run(raw: Float32Array): Promise<Float32Array | undefined> {
    const model = this.model;
    if (!model) return undefined;
    const meta = model.session.inputMetadata[0]!;
    const values = preprocess(raw, inputSpecOf(model.spec.inputs, meta.name)?.preprocessing);
    const out = await model.session.run({ [meta.name]: inputTensor(meta, values) });
    const outName = model.session.outputNames[0]!;
    const outSpec = model.spec.outputs?.find((o) => o.name === outName) ?? model.spec.outputs?.[0];
    return probabilitiesOf(out[outName]!.data as Float32Array, outSpec?.kind);
  }

  private labels(n: number): readonly string[] {
    const outSpec = this.model?.spec.outputs?.[0];
    return outSpec?.labels ?? (n === 3 ? ['setosa', 'versicolor', 'virginica'] : Array.from({ length: n }, (_, i) => `class ${i}`));
  }

  private async predictFromSliders(): Promise<void> {
    const probs = await this.run(Float32Array.from(this.inputs, (i) => Number(i.value)));
    if (!probs) return;
    const labels = this.labels(probs.length);
    let top = 0;
    probs.forEach((p, i) => (top = p > probs[top]! ? i : top));
    this.els.guess.textContent = labels[top] ?? '';
    renderBars(this.els.bars, labels, probs);
  }

  /** Runs `count` simulated rows one after another (the traffic switch does this on a timer). */
  async simulate(count: number): Promise<void> {
    for (let i = 0; i < count && this.model; i++) {
      await this.run(sampleRow(this.features, inputSpecOf(this.model.spec.inputs, this.model.session.inputMetadata[0]!.name)?.preprocessing, this.shift));
      this.trafficRuns++;
    }
  }

  private async trafficTick(): Promise<void> {
    if (this.trafficBusy) return; // never queue runs faster than the model answers
    this.trafficBusy = true;
    try {
      await this.simulate(1);
    } finally {
      this.trafficBusy = false;
    }
  }
}
