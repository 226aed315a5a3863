// Starting collectors on free ports with a database in a fresh temporary folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector, type Collector, type CollectorOptions } from '../../collector/index.ts';

export function tempDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'kiln-collector-')), 'telemetry.db');
}

export const WRITE_KEY = 'write-key-0123456789';
export const OTHER_KEY = 'write-key-abcdefghij';
export const READ_KEY = 'read-key-0123456789';

export function start(o: CollectorOptions = {}): Promise<Collector> {
  return startCollector({ port: 0, rateLimitPerSecond: 0, log: () => {}, ...o });
}
