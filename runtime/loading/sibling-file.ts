// Node: reads an external-data file next to a model path, after resolving symlinks on both sides,
// so a link inside the model's folder cannot point the loader at a file outside it.
import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fail } from '../../core/errors.ts';

export async function readSiblingFile(modelPath: string, location: string): Promise<Uint8Array> {
  const folder = await realpath(dirname(resolve(modelPath)));
  let real: string;
  try {
    real = await realpath(resolve(folder, location));
  } catch (e) {
    return fail('INVALID_MODEL', `external data '${location}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { location });
  }
  const inside = relative(folder, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    fail('INVALID_MODEL', `external data location '${location}' resolves to '${real}', outside the model's folder '${folder}'`, { location });
  }
  try {
    return new Uint8Array(await readFile(real));
  } catch (e) {
    return fail('INVALID_MODEL', `external data '${location}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { location });
  }
}
