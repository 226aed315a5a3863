// Writes demo/public/icon-192.png and icon-512.png (the installable app's icons), drawing the same
// shapes as demo/public/icon.svg with 4x4 supersampling: `node --import tsx demo/scripts/make-icons.ts`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { demoRoot } from '../vite.config.ts';

type Rgb = readonly [number, number, number];
const BG: Rgb = [0x24, 0x1a, 0x12];
const ARCH: Rgb = [0x3a, 0x2a, 0x1d];
const FLAME: Rgb = [0xf0, 0x8a, 0x2c];
const BASE: Rgb = [0xc2, 0x57, 0x1a];

function roundedRect(x: number, y: number, x0: number, y0: number, x1: number, y1: number, r: number): boolean {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Colour at (x, y) in the SVG's 64x64 coordinates, or undefined outside the icon. */
function colourAt(x: number, y: number): Rgb | undefined {
  if (!roundedRect(x, y, 0, 0, 64, 64, 14)) return undefined;
  if (roundedRect(x, y, 10, 50, 54, 54, 2)) return BASE;
  // flame: a teardrop, a circle of radius 9 at (32, 38) with a point rising to (32, 20)
  const inCircle = (x - 32) ** 2 + (y - 38) ** 2 <= 81;
  const inTip = y >= 20 && y <= 38 && Math.abs(x - 32) <= ((y - 20) / 18) * 9;
  if (inCircle || inTip) return FLAME;
  const inArch = x >= 14 && x <= 50 && y <= 50 && (y >= 30 || (x - 32) ** 2 + (y - 30) ** 2 <= 324);
  return inArch ? ARCH : BG;
}

function icon(size: number): Buffer {
  const png = new PNG({ width: size, height: size });
  const s = 64 / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const c = colourAt((px + (sx + 0.5) / 4) * s, (py + (sy + 0.5) / 4) * s);
          if (!c) continue;
          r += c[0]; g += c[1]; b += c[2]; a++;
        }
      }
      const i = (py * size + px) * 4;
      png.data[i] = a ? r / a : 0;
      png.data[i + 1] = a ? g / a : 0;
      png.data[i + 2] = a ? b / a : 0;
      png.data[i + 3] = (a / 16) * 255;
    }
  }
  return PNG.sync.write(png);
}

for (const size of [192, 512]) writeFileSync(join(demoRoot, 'public', `icon-${size}.png`), icon(size));
console.log('icons written to demo/public/');
