// The drawing pad: white strokes on black, like MNIST. Calls `onStroke` while drawing (throttled to
// animation frames) and when a stroke ends.
export class DigitPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: { x: number; y: number } | undefined;
  private frame = 0;
  private inked = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onStroke: () => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = this.point(e);
      this.line(this.last, this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const p = this.point(e);
      this.line(this.last ?? p, p);
      this.last = p;
    });
    const end = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = undefined;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  get hasInk(): boolean {
    return this.inked;
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  /** Draws a polyline in canvas pixels (tests and the screenshot use it to write a digit). */
  stroke(points: readonly (readonly [number, number])[]): void {
    for (let i = 0; i < points.length; i++) {
      const [x, y] = points[i]!;
      const [px, py] = points[Math.max(0, i - 1)]!;
      this.line({ x: px, y: py }, { x, y });
    }
    this.onStroke();
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * this.canvas.width, y: ((e.clientY - r.top) / r.height) * this.canvas.height };
  }

  private line(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = this.canvas.width / 12;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x, b.y);
    c.stroke();
    this.inked = true;
    if (this.drawing && this.frame === 0) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.onStroke();
      });
    }
  }
}
