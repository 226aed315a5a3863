// An external-data location is a file name relative to the model's folder, read by the loader on
// the model's behalf: it must never reach outside that folder. This is the lexical check every
// reader applies (browser-safe); the Node loader also resolves symlinks (loading/sibling-file.ts)
// and the URL loader checks origin and directory after resolving (api/model-source.ts).
import { fail } from '../../../core/errors.ts';

const refuse = (where: string, location: string, why: string): never =>
  fail('INVALID_MODEL', `${where}: external data location '${location}' ${why}; locations must name a file inside the model's folder`, { location });

/** Throws INVALID_MODEL naming `where` (the tensor) unless `location` is a plain relative path without '..'. */
export function checkExternalLocation(location: string, where: string): void {
  if (location === '') refuse(where, location, 'is empty');
  if (location.includes('\0')) refuse(where, location, 'contains a NUL character');
  // Percent-encoded dots and slashes ('%2e%2e', '..%2f', '%2fetc') may become '..' or '/' on a
  // server or once a URL is resolved, so the location is judged as written and decoded.
  for (const form of [location, decoded(location)]) {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(form)) refuse(where, location, 'is a URL or a drive path');
    if (form.startsWith('/') || form.startsWith('\\')) refuse(where, location, 'is an absolute path');
    if (form.split(/[/\\]/).includes('..')) refuse(where, location, "has a '..' segment");
  }
}

function decoded(location: string): string {
  try {
    return decodeURIComponent(location);
  } catch {
    return location; // not valid percent-encoding: the file name is taken as written
  }
}
