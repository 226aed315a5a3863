// A user's CSV: a header row, one label column (--label COL, any values: they become the class
// names), every other column numeric. Missing or non-numeric cells are reported with their row
// and column rather than turned into NaN or 0.
import { readFileSync } from 'node:fs';
import { fail } from '../../core/errors.ts';
import type { Dataset } from './dataset.ts';
import { tabularDataset } from './tabular.ts';

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" inside quotes). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '?']);

export function parseCsvDataset(text: string, label: string, source: string, seed: number): Dataset {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) fail('INVALID_ARGUMENT', `${source}: needs a header row and at least one data row`);
  const header = splitCsvLine(lines[0]!);
  const labelIndex = header.indexOf(label);
  if (labelIndex < 0) fail('INVALID_ARGUMENT', `${source}: no column '${label}' (columns: ${header.join(', ')})`);
  if (header.length < 2) fail('INVALID_ARGUMENT', `${source}: needs at least one feature column besides '${label}'`);
  const featureNames = header.filter((_, i) => i !== labelIndex);
  const features: number[][] = [];
  const labels: string[] = [];
  for (let r = 1; r < lines.length; r++) {
    const cells = splitCsvLine(lines[r]!);
    if (cells.length !== header.length) fail('INVALID_ARGUMENT', `${source}: line ${r + 1} has ${cells.length} cells, the header has ${header.length}`);
    const row: number[] = [];
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c]!;
      if (MISSING.has(cell.toLowerCase())) fail('INVALID_ARGUMENT', `${source}: missing value at line ${r + 1}, column '${header[c]}' (fill or drop such rows first)`);
      if (c === labelIndex) continue;
      const v = Number(cell);
      if (!Number.isFinite(v)) fail('INVALID_ARGUMENT', `${source}: line ${r + 1}, column '${header[c]}': '${cell}' is not a number (only the label column may hold text)`);
      row.push(v);
    }
    features.push(row);
    labels.push(cells[labelIndex]!);
  }
  return tabularDataset({ name: `csv:${source}`, featureNames, features, labels }, seed);
}

export function loadCsv(file: string, label: string, seed: number): Dataset {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail('INVALID_ARGUMENT', `cannot read CSV ${file}: ${(e as Error).message}`);
  }
  return parseCsvDataset(text, label, file, seed);
}
