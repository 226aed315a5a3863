// Markdown for `npm run bench -- --profile`: where each WebGPU runtime's warm run goes, per op.
import type { ProfileResult } from '../page/profile-run.ts';

export function renderProfile(p: { date: string; machine: string; browser: string; adapter: string; profiles: ProfileResult[] }): string {
  const lines = [
    `# Kiln bench — per-dispatch profile, ${p.date.slice(0, 10)}`,
    '',
    `- machine: ${p.machine}`,
    `- browser: ${p.browser}`,
    `- adapter: ${p.adapter}`,
    '',
    'Each dispatch of one warm run replayed alone (median of 3, minus an empty submit). "kernels" is their sum;',
    'run - kernels = what a run spends outside kernels (upload, readback, per-dispatch and scheduling overhead, and',
    'for each dispatch alone the cache and pipeline switches it would share with its neighbours).',
    '',
    '| workload | runtime | run ms | dispatches | kernels ms | empty submit ms | top ops (ms, dispatches) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of p.profiles) {
    const top = r.error ? `error: ${r.error}` : r.byOp.slice(0, 6).map((k) => `${k.label} ${k.ms.toFixed(1)} (${k.dispatches})`).join(', ');
    lines.push(`| ${r.workload} | ${r.runtime} | ${r.runMs.toFixed(1)} | ${r.dispatches} | ${r.kernelMs.toFixed(1)} | ${r.emptySubmitMs.toFixed(2)} | ${top.replace(/\|/g, '\\|')} |`);
  }
  for (const r of p.profiles.filter((x) => x.runtime === 'kiln-webgpu' && x.byLabel.length > 0)) {
    lines.push('', `## ${r.workload} on kiln-webgpu: slowest dispatches by pipeline label`, '', '| label | dispatches | ms |', '|---|---|---|');
    for (const k of r.byLabel.slice(0, 15)) lines.push(`| ${k.label.replace(/\|/g, '\\|')} | ${k.dispatches} | ${k.ms.toFixed(2)} |`);
  }
  return `${lines.join('\n')}\n`;
}
