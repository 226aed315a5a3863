// A drawing as MNIST saw its digits: the ink's bounding box scaled to fit 20x20 (aspect kept), placed
// in a 28x28 image so that its centre of mass is the centre. Returns raw grey levels 0..255, row-major.
export function toMnistPixels(source: HTMLCanvasElement): Float32Array | undefined {
  const { width, height } = source;
  const rgba = source.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, width, height).data;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (rgba[(y * width + x) * 4]! > 32) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return undefined; // nothing drawn
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));

  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const ctx = small.getContext('2d', { willReadFrequently: true })!;
  const draw = (dx: number, dy: number): Float32Array => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 28, 28);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, x0, y0, bw, bh, dx, dy, w, h);
    const d = ctx.getImageData(0, 0, 28, 28).data;
    return Float32Array.from({ length: 784 }, (_, i) => d[i * 4]!);
  };
  const first = draw((28 - w) / 2, (28 - h) / 2);
  let mass = 0, mx = 0, my = 0;
  first.forEach((v, i) => {
    mass += v;
    mx += v * (i % 28);
    my += v * Math.floor(i / 28);
  });
  return draw((28 - w) / 2 + Math.round(13.5 - mx / mass), (28 - h) / 2 + Math.round(13.5 - my / mass));
}
