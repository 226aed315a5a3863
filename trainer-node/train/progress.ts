// One progress bar per epoch on stderr: redrawn in place on a terminal; in a log (not a TTY) a line
// at every tenth of an epoch, so long runs show they are alive.
export interface EpochProgress {
  readonly phase: string;
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly seconds: number;
}

const WIDTH = 24;

export function formatProgress(p: EpochProgress): string {
  const filled = Math.round((p.step / p.steps) * WIDTH);
  return `${p.phase} epoch ${p.epoch}/${p.epochs} [${'='.repeat(filled)}${' '.repeat(WIDTH - filled)}] ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${(p.accuracy * 100).toFixed(2)}% ${p.seconds.toFixed(0)}s`;
}

export class ProgressBar {
  private lastDraw = 0;
  constructor(private readonly stream: NodeJS.WriteStream | undefined = process.stderr) {}

  update(p: EpochProgress): void {
    if (!this.stream) return;
    const done = p.step === p.steps;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (!done && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${formatProgress(p)}${done ? '\n' : ''}`);
    } else if (done || (p.steps >= 50 && p.step % Math.ceil(p.steps / 10) === 0)) this.stream.write(`${formatProgress(p)}\n`);
  }
}
