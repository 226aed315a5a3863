// Test-only page code, bundled by Vite when the browser test starts. Sessions come from the kiln
// module the page hands in (dist/kiln.mjs, what users load); this bundle only decodes the .pb
// tensors and compares results with the same helpers and tolerances as the Node conformance test.
import type * as Kiln from '../../../runtime/index.ts';
import { readOnnxTensor } from '../../../runtime/format/onnx/onnx-reader.ts';
import { compareTensors } from '../../helpers/compare.ts';
import { toleranceFor } from '../../conformance/tolerances.ts';

type KilnModule = typeof Kiln;

/** One conformance case as the Node side describes it: URLs of the model and of each .pb file. */
export interface BrowserCase {
  readonly name: string;
  readonly modelUrl: string;
  readonly dataSets: readonly {
    readonly inputs: readonly (readonly [name: string, url: string])[];
    readonly outputs: readonly (readonly [name: string, url: string])[];
  }[];
}

export interface BrowserCaseResult {
  /** the backend the session really ran on */
  readonly executionProvider?: string;
  readonly adapterInfo?: string;
  /** one line per mismatching output; empty when all match */
  readonly problems: readonly string[];
  /** thrown while creating or running, as "Name [code]: message" */
  readonly error?: string;
  readonly ms: number;
}

export interface ConformanceHarness {
  runCase(c: BrowserCase, backend: 'js' | 'wasm' | 'webgpu'): Promise<BrowserCaseResult>;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

export function createHarness(kiln: KilnModule): ConformanceHarness {
  const tensorAt = async (url: string): Promise<Kiln.AnyTensor> => {
    const t = readOnnxTensor(await fetchBytes(url));
    // Rebuilt as the bundle's own Tensor: the session sees exactly what a user would pass.
    return new kiln.Tensor(t.type, t.data, t.dims);
  };
  return {
    async runCase(c, backend) {
      const started = performance.now();
      const problems: string[] = [];
      let session: Kiln.InferenceSession | undefined;
      try {
        // By URL, so the runtime's own fetch path is exercised too.
        session = await kiln.InferenceSession.create(c.modelUrl, { executionProviders: [backend] });
        for (const ds of c.dataSets) {
          const feeds: Record<string, Kiln.AnyTensor> = {};
          for (const [name, url] of ds.inputs) feeds[name] = await tensorAt(url);
          const out = await session.run(feeds);
          for (const [name, url] of ds.outputs) {
            const want = readOnnxTensor(await fetchBytes(url));
            const got = out[name];
            if (!got) problems.push(`output '${name}' missing`);
            else {
              const problem = compareTensors(got, want, toleranceFor(c.name, want.type, backend));
              if (problem !== undefined) problems.push(`output '${name}': ${problem}`);
            }
          }
        }
        return { executionProvider: session.executionProvider, adapterInfo: session.adapterInfo, problems, ms: performance.now() - started };
      } catch (e) {
        return { executionProvider: session?.executionProvider, problems, error: describeError(e), ms: performance.now() - started };
      } finally {
        await session?.release();
      }
    },
  };
}
