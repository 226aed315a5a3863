#!/usr/bin/env node
// Where the bytes of a built browser bundle come from: `node scripts/bundle-breakdown.mjs dist/kiln.iife.js [depth]`.
// Reads the bundle's source map and gives every byte of the minified output to the source file its
// segment maps to, then sums per folder (depth path components). gzip per folder is that folder's
// bytes compressed on their own: an estimate (gzip of the whole file shares its dictionary across folders).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { SourceMapConsumer } from 'source-map-js';

const [file, depthArg] = process.argv.slice(2);
const depth = Number(depthArg ?? 2);
const code = readFileSync(file, 'utf8');
const map = new SourceMapConsumer(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
const lines = code.split('\n');
const lineStart = [];
for (let i = 0, off = 0; i < lines.length; i++) { lineStart.push(off); off += lines[i].length + 1; }

const segments = [];
map.eachMapping((m) => segments.push({ line: m.generatedLine - 1, col: m.generatedColumn, source: m.source ?? '(unmapped)' }));
segments.sort((a, b) => a.line - b.line || a.col - b.col);
const chunks = new Map();
const add = (source, text) => {
  const key = folderOf(source);
  const list = chunks.get(key) ?? [];
  list.push(text);
  chunks.set(key, list);
};
function folderOf(source) {
  const s = source.replace(/^(\.\.\/)+/, '').replace(/^.*node_modules\//, 'node_modules/');
  const parts = s.split('/');
  if (parts[0] === 'node_modules') return parts.slice(0, parts[1]?.startsWith('@') ? 3 : 2).join('/');
  return parts.length <= depth ? s : parts.slice(0, depth).join('/') + '/';
}
let covered = 0;
for (let i = 0; i < segments.length; i++) {
  const s = segments[i];
  const next = segments[i + 1];
  const end = next && next.line === s.line ? next.col : lines[s.line].length;
  const text = lines[s.line].slice(s.col, end);
  covered += text.length;
  add(s.source, text);
}
const total = code.length;
const rows = [...chunks].map(([k, parts]) => {
  const text = parts.join('');
  return { k, raw: text.length, gz: gzipSync(text, { level: 9 }).length };
}).sort((a, b) => b.gz - a.gz);
const kb = (n) => (n / 1024).toFixed(1).padStart(7);
// Bytes before a line's first segment (and newlines) belong to no source.
console.log(`${file}: ${kb(total)} KB raw, ${kb(gzipSync(code, { level: 9 }).length)} KB gzip; ${kb(total - covered)} KB raw outside every segment`);
for (const r of rows) console.log(`${kb(r.raw)} raw ${kb(r.gz)} gz  ${r.k}`);
