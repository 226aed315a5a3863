// Which file a static-server request may read: inside one of the served folders after every
// symlink is resolved, never a dotfile or anything under a dot folder (.git, .env, .cache with
// the collector's database), and never a throw: a path through a file (ENOTDIR), a name too long
// for the filesystem (ENAMETOOLONG) and the like all come back as a status.
import { realpathSync, statSync, type Stats } from 'node:fs';
import { join, normalize, sep } from 'node:path';

/** Longest request target we read at all (browsers send far less; 414 beyond). */
export const MAX_URL_LENGTH = 2048;

export type Lookup = { readonly file: string; readonly size: number } | { readonly status: 400 | 404 | 414; readonly why: string };

const inside = (file: string, dir: string): boolean => file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined; // ENOENT, ENOTDIR, ENAMETOOLONG, ELOOP, EACCES: there is no file to serve
  }
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The folders served: URL prefix ("/name/") -> folder, longest prefix first, "/" -> root last. */
export type Mounts = readonly (readonly [string, string])[];

export function lookupFile(pathname: string, mounts: Mounts): Lookup {
  if (pathname.length > MAX_URL_LENGTH) return { status: 414, why: `the path is longer than ${MAX_URL_LENGTH} characters` };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, why: 'the path is not valid percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, why: 'the path holds a NUL or a backslash' };
  const mount = mounts.find(([p]) => decoded.startsWith(p));
  if (!mount) return { status: 404, why: 'not found' };
  const [prefix, dir] = mount;
  const rel = normalize(decoded.slice(prefix.length));
  const parts = rel.split(sep);
  if (parts.includes('..')) return { status: 404, why: 'not found' };
  if (parts.some((p) => p.startsWith('.') && p !== '.')) return { status: 404, why: 'not found' }; // dotfiles and dot folders
  let file = join(dir, rel);
  if (!inside(file, dir)) return { status: 404, why: 'not found' };
  let stat = statOrUndefined(file);
  if (stat?.isDirectory()) {
    file = join(file, 'index.html');
    stat = statOrUndefined(file);
  }
  if (!stat?.isFile()) return { status: 404, why: 'not found' };
  // A symlink inside the folder must not lead out of it.
  const realDir = realOrUndefined(dir);
  const realFile = realOrUndefined(file);
  if (realDir === undefined || realFile === undefined || !inside(realFile, realDir)) return { status: 404, why: 'not found' };
  return { file: realFile, size: stat.size };
}
