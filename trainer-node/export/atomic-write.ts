// Output files appear whole or not at all: each is written to a temporary name beside its target
// and renamed into place only after every output of the run was written, so an interrupted or
// failed run never leaves a half-written bundle (rename is atomic within one filesystem).
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class StagedFiles {
  private readonly staged = new Map<string, string>();

  /** Writes `bytes` to a temporary file for `path`. */
  stage(path: string, bytes: Uint8Array | string): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    this.staged.set(path, tmp);
    writeFileSync(tmp, bytes);
  }

  /** Renames every staged file into place. */
  commit(): string[] {
    for (const [path, tmp] of this.staged) renameSync(tmp, path);
    const done = [...this.staged.keys()];
    this.staged.clear();
    return done;
  }

  /** Deletes staged temporary files (on failure or interrupt). */
  discard(): void {
    for (const tmp of this.staged.values()) rmSync(tmp, { force: true });
    this.staged.clear();
  }
}
