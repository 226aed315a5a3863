// Opt-in wall time of each step of the wasm backend's runs, for bench/ only
// (bench/node/wasm-step-times.ts): where an int8 graph loses to its float twin, per step. Unset,
// a run pays one undefined check per step.

/** Called after each step of a run with the step's index in the plan (= Placement.steps) and its milliseconds. */
export type WasmStepTimer = (step: number, ms: number) => void;

let timer: WasmStepTimer | undefined;

/** Sets (or with undefined clears) the timer every wasm backend's runs report to. */
export function setWasmStepTimer(t: WasmStepTimer | undefined): void {
  timer = t;
}

export function wasmStepTimer(): WasmStepTimer | undefined {
  return timer;
}
