// A folder of PNG images, one subfolder per class (the Keras image_dataset_from_directory layout).
// All images must share one size; grayscale when every pixel has R = G = B, else RGB. Pixels are
// scaled to [0, 1] like MNIST.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { fail } from '../../core/errors.ts';
import { splitRows, type Dataset } from './dataset.ts';
import { createRng } from './rng.ts';

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    return fail('INVALID_ARGUMENT', `cannot read image folder ${dir}: ${(e as Error).message}`);
  }
}

export function loadImageFolder(dir: string, seed: number, testFraction = 0.2): Dataset {
  const classes = listDir(dir).filter((d) => statSync(join(dir, d)).isDirectory());
  if (classes.length < 2) fail('INVALID_ARGUMENT', `${dir}: expected one subfolder per class (at least 2), found ${classes.length}`);
  const images: PNG[] = [];
  const labels: number[] = [];
  classes.forEach((c, ci) => {
    const files = listDir(join(dir, c)).filter((f) => f.toLowerCase().endsWith('.png'));
    if (files.length === 0) fail('INVALID_ARGUMENT', `${dir}/${c}: no .png images`);
    for (const f of files) {
      const path = join(dir, c, f);
      try {
        images.push(PNG.sync.read(readFileSync(path)));
      } catch (e) {
        fail('INVALID_ARGUMENT', `${path}: not a readable PNG (${(e as Error).message})`);
      }
      labels.push(ci);
    }
  });
  const { width, height } = images[0]!;
  images.forEach((im, i) => {
    if (im.width !== width || im.height !== height) fail('INVALID_ARGUMENT', `${dir}: images differ in size (${width}x${height} and ${im.width}x${im.height} at image ${i}); resize them to one size first`);
  });
  const gray = images.every((im) => {
    for (let p = 0; p < im.data.length; p += 4) if (im.data[p] !== im.data[p + 1] || im.data[p] !== im.data[p + 2]) return false;
    return true;
  });
  const channels = gray ? 1 : 3;
  const size = width * height * channels;
  const x = new Float32Array(images.length * size);
  images.forEach((im, i) => {
    for (let p = 0; p < width * height; p++) for (let c = 0; c < channels; c++) x[i * size + p * channels + c] = im.data[p * 4 + c]! / 255;
  });
  const { train, test } = splitRows({ x, y: Int32Array.from(labels), n: images.length }, size, testFraction, createRng(seed ^ 0x5eed));
  return {
    name: `images:${basename(dir)}`,
    kind: 'image',
    sampleShape: [height, width, channels],
    classes,
    preprocessing: { kind: 'affine', scale: 1 / 255, offset: 0, rawRange: [0, 255] },
    train,
    test,
  };
}
