import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmKernel, WasmStep } from '../wasm/contract.ts';
import { ARENA_DTYPE_BYTES } from '../wasm/typed.ts';
import { VIEW_OPS } from './op.ts';

/** Reshape-like ops in wasm are views: the output takes the input's arena bytes (WasmStep.viewOf); nothing runs. */
export const viewStep: WasmStep = { reads: [0], scratchBytes: 0, persistentBytes: [], viewOf: 0, run: () => {} };

const view: WasmKernel = (inputs) => (inputs[0] && ARENA_DTYPE_BYTES[inputs[0].dtype] !== undefined ? viewStep : undefined);

export const wasm: ImplementationTable<WasmKernel> = Object.fromEntries(VIEW_OPS.map((op) => [opKey('', op), view]));
