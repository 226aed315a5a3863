// A progress bar per phase of `kiln compress` on stderr: redrawn in place on a terminal, one line
// per quarter otherwise (CI logs), silent when no stream is given (tests).
const WIDTH = 28;

export class Progress {
  private lastDraw = 0;
  private lastQuarter = -1;
  private readonly start = Date.now();

  constructor(private readonly label: string, private readonly total: number, private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } | undefined) {}

  tick(done: number, note = ''): void {
    if (!this.stream || this.total <= 0) return;
    const finished = done >= this.total;
    const filled = Math.round((Math.min(done, this.total) / this.total) * WIDTH);
    const line = `${this.label.padEnd(12)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${this.total} ${((Date.now() - this.start) / 1000).toFixed(1)}s${note ? ` ${note}` : ''}`;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (!finished && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[K${line}${finished ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor((done / this.total) * 4);
    if (quarter !== this.lastQuarter) {
      this.lastQuarter = quarter;
      this.stream.write(`${line}\n`);
    }
  }
}
