// What the engine's WebAssembly can do, asked with WebAssembly.validate on tiny modules (as
// onnxruntime-web and XNNPACK do): a SIMD128 instruction, and a relaxed-SIMD one. Validation
// compiles nothing and runs nothing; the answer is kept.

export interface WasmFeatures {
  /** wasm at all (some locked-down pages and old engines lack it) */
  readonly wasm: boolean;
  readonly simd: boolean;
  readonly relaxedSimd: boolean;
}

/** A module with one function `() -> v128` whose body is the given instructions. */
function probeModule(body: readonly number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b]; // no locals, the instructions, end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, code.length + 2, 0x01, code.length, ...code, // code section: one body
  ]);
}

const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
/** v128.const 0 */
export const SIMD_PROBE = probeModule(V128_ZERO);
/** f32x4.relaxed_madd(0, 0, 0): opcode 0xfd 0x105 (LEB128 0x85 0x02) of the final relaxed-SIMD spec */
export const RELAXED_SIMD_PROBE = probeModule([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]);

let detected: WasmFeatures | undefined;

/** Asked once per page or process: the engine does not change while it runs. */
export function detectWasmFeatures(): WasmFeatures {
  if (detected) return detected;
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return (detected = { wasm: false, simd: false, relaxedSimd: false });
  const simd = WebAssembly.validate(SIMD_PROBE);
  return (detected = { wasm: true, simd, relaxedSimd: simd && WebAssembly.validate(RELAXED_SIMD_PROBE) });
}
