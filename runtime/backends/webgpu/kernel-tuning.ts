/**
 * Which kernel forms the WebGPU backend picks: 'auto' detects software adapters (SwiftShader,
 * llvmpipe), where one workgroup runs on one CPU thread and fewer, larger dispatches win;
 * 'hardware' / 'software' force one side (tests use 'hardware' to exercise the workgroup forms on
 * a software adapter). Its own file: the public API names it, and must not pull WebGPU types.
 */
export type KernelTuning = 'auto' | 'hardware' | 'software';
