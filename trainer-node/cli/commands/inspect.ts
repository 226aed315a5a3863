// `kiln inspect FILE [--json] [--public-key FILE]`: what is in a .kiln bundle or an ONNX model.
// Exit code 1 when the file is damaged, or a key was given and the file is unsigned or its signature
// does not verify (after printing the report), so CI can gate releases on it.
import { readFile } from 'node:fs/promises';
import { fail } from '../../../core/errors.ts';
import { importKilnPublicKey } from '../../../runtime/format/kiln/kiln-signature.ts';
import { reportModel, type ModelReport, type ValueSummary } from '../../../runtime/format/kiln/model-report.ts';
import { CliUsageError, type Command } from '../command.ts';

const HELP = `usage: kiln inspect FILE [--json] [--public-key KEYFILE]

Summarizes a .kiln bundle or an ONNX model (detected by content, not by extension): graph, op
counts, parameters, bytes by dtype, quantization scheme per layer, metadata (provenance, metrics,
input/output spec, labels, drift reference), section hashes and signature status.

  --json               print the report as JSON
  --public-key KEYFILE Ed25519 public key to verify the signature with: 32 raw bytes, 64 hex
                       characters, base64 of the 32 bytes, or a PEM "PUBLIC KEY" (SPKI)

Exit codes: 0 ok, 1 unreadable or damaged file, or (with --public-key) a file that is unsigned or
whose signature does not verify against the key, 2 bad usage.`;

interface Args {
  file: string;
  json: boolean;
  publicKey?: string;
}

function parseArgs(argv: readonly string[]): Args {
  let file: string | undefined;
  let json = false;
  let publicKey: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--public-key' || a.startsWith('--public-key=')) {
      publicKey = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!publicKey) throw new CliUsageError('--public-key needs a file');
    } else if (a.startsWith('-')) throw new CliUsageError(`unknown option '${a}'`);
    else if (file !== undefined) throw new CliUsageError(`one FILE at a time (got '${file}' and '${a}')`);
    else file = a;
  }
  if (file === undefined) throw new CliUsageError('which file? kiln inspect FILE');
  return { file, json, ...(publicKey ? { publicKey } : {}) };
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    return fail('INVALID_ARGUMENT', `cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Accepts the usual ways an Ed25519 public key is kept in a file. */
export async function loadPublicKey(bytes: Uint8Array): Promise<CryptoKey> {
  if (bytes.length === 32) return importKilnPublicKey(bytes);
  const text = new TextDecoder().decode(bytes).trim();
  const pem = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(text);
  try {
    if (pem) return await crypto.subtle.importKey('spki', Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64'), 'Ed25519', true, ['verify']);
  } catch (e) {
    return fail('INVALID_ARGUMENT', `the PEM public key is not an Ed25519 key: ${(e as Error).message}`);
  }
  if (/^[0-9a-fA-F]{64}$/.test(text)) return importKilnPublicKey(Uint8Array.from(Buffer.from(text, 'hex')));
  const b64 = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (b64?.length === 32) return importKilnPublicKey(new Uint8Array(b64));
  return fail('INVALID_ARGUMENT', 'the public key file is not an Ed25519 public key (32 raw bytes, 64 hex characters, base64, or PEM)');
}

export const inspectCommand: Command = {
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv);
    const key = args.publicKey ? await loadPublicKey(await readInput(args.publicKey, 'public key')) : undefined;
    const report = await reportModel(await readInput(args.file, 'model'), key);
    console.log(args.json ? JSON.stringify(report, null, 2) : renderReport(args.file, report));
    // A key given means a signature is required, as when loading with { publicKey }.
    const untrusted = key !== undefined && report.signature !== 'valid';
    const damaged = report.problem !== undefined || untrusted || (report.sections ?? []).some((s) => !s.hashOk);
    return damaged ? 1 : 0;
  },
};

const size = (n: number): string => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`);
const value = (v: ValueSummary): string => `${v.name} ${v.dtype}${v.dims ? ` [${v.dims.map((d) => d ?? '?').join(', ')}]` : ''}`;
const list = (xs: readonly string[], max = 5): string => (xs.length > max ? `${xs.slice(0, max).join(', ')}, ... (${xs.length})` : xs.join(', '));

export function renderReport(file: string, r: ModelReport): string {
  const lines: string[] = [];
  const out = (s: string): number => lines.push(s);
  out(`${file}: ${r.format === 'kiln' ? `.kiln v${r.version}` : 'ONNX'}, ${size(r.byteLength)}${r.producer ? `, producer '${r.producer}'` : ''}`);
  out(`graph: ${r.nodes} nodes; opsets ${Object.entries(r.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')}`);
  out(`  inputs:  ${r.inputs.map(value).join('; ')}`);
  out(`  outputs: ${r.outputs.map(value).join('; ')}`);
  out(`ops: ${Object.entries(r.ops).map(([op, n]) => `${op} ${n}`).join(', ')}`);
  out(`parameters: ${r.parameters.toLocaleString('en-US')} in ${r.initializers} weight tensors (initializers and Constant values)`);
  out(`bytes by dtype: ${Object.entries(r.bytesByDtype).map(([d, n]) => `${d} ${size(n)}`).join(', ') || 'none'}`);
  out(r.quantization.length === 0 ? 'quantization: none (float weights)' : 'quantization:');
  for (const q of r.quantization) out(`  ${q.layer}: ${q.scheme} (${q.weight})`);
  const spec = r.spec;
  const md = spec?.metadata;
  if (md) {
    if (md.name || md.version) out(`model: ${md.name ?? ''}${md.version ? ` ${md.version}` : ''}`.trim());
    if (md.provenance) out(`provenance: ${Object.entries(md.provenance).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`);
    if (md.metrics) out(`metrics: ${Object.entries(md.metrics).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }
  for (const i of spec?.inputs ?? []) {
    const p = i.preprocessing;
    const pre = !p || p.kind === 'none' ? '' : p.kind === 'affine' ? `, value = raw * ${p.scale} + ${p.offset}` : `, standardized (${p.mean.length} features)`;
    out(`input spec: ${i.name}${i.layout ? ` ${i.layout}` : ''}${pre}${i.featureNames ? `, features ${list(i.featureNames)}` : ''}`);
  }
  for (const o of spec?.outputs ?? []) out(`output spec: ${o.name}${o.kind ? ` ${o.kind}` : ''}${o.labels ? `, ${o.labels.length} labels: ${list(o.labels)}` : ''}`);
  if (md?.drift) {
    const d = md.drift;
    out(`drift reference: ${d.samples} samples from '${d.origin}'; inputs ${list(d.inputs.map((f) => f.name))}; outputs ${list(d.outputs.map((f) => f.name))}`);
  }
  if (Object.keys(r.modelMetadata).length > 0) out(`model metadata: ${Object.entries(r.modelMetadata).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  out(`signature: ${{ none: 'none', valid: `valid (Ed25519${r.keyId ? `, key ${r.keyId}` : ''})`, invalid: 'INVALID: does not verify against the given key', unverified: 'present, not checked (pass --public-key)', missing: 'MISSING: the file is unsigned, and --public-key requires a signature' }[r.signature]}`);
  if (r.sections) {
    const bad = r.sections.filter((s) => !s.hashOk).map((s) => s.index);
    const coded = r.sections.filter((s) => s.encoding !== 'none').length;
    out(`sections: ${r.sections.length}${coded ? ` (${coded} deflate-raw)` : ''}, ${bad.length === 0 ? 'all SHA-256 ok' : `SHA-256 MISMATCH in section${bad.length > 1 ? 's' : ''} ${bad.join(', ')}`}`);
  }
  if (r.problem) out(`problem: ${r.problem}`);
  return lines.join('\n');
}
