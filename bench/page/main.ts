// The benchmark page: runs every runtime side by side and exposes the results to the runner.
import { measureWorkload, type BenchResult } from './measure.ts';
import type { RuntimeName } from './runtimes.ts';
import { microWorkloads } from './workloads.ts';

const params = new URLSearchParams(location.search);
const quick = params.has('quick');
const runtimes: RuntimeName[] = (params.get('runtimes')?.split(',') as RuntimeName[] | undefined) ?? ['kiln-webgpu', 'kiln-cpu', 'ort-webgpu', 'ort-wasm'];
const logEl = document.getElementById('log')!;
const log = (s: string): void => {
  logEl.textContent += `${s}\n`;
};

async function adapterDescription(): Promise<string> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  const a = await gpu?.requestAdapter();
  return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() : 'no WebGPU adapter';
}

async function main(): Promise<{ browser: string; adapter: string; results: BenchResult[] }> {
  const results: BenchResult[] = [];
  for (const w of microWorkloads(quick)) results.push(...(await measureWorkload(w, runtimes, quick ? 1 : 3, quick ? 3 : 15, log)));
  return { browser: navigator.userAgent, adapter: await adapterDescription(), results };
}

const done = main().catch((e: unknown) => ({ error: String((e as Error).stack ?? e) }));
(globalThis as { kilnBench?: Promise<unknown> }).kilnBench = done;
void done.then((r) => log(`done\n${JSON.stringify(r, null, 1)}`));
