import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { TensorMeta } from '../contract.ts';
import type { WasmKernel, WasmStep } from '../wasm/contract.ts';
import { singleExportStep } from '../wasm/single-export-step.ts';
import { broadcastWalk, DTYPE_CODE } from '../wasm/typed.ts';
import { CUBE_CODE, SQUARE_CODE, unaryStep } from '../elementwise-unary/wasm.ts';

/** Op and form codes of kiln_binary_f32 (kernels/wasm/src/eltwise-binary.c): keep in step with its enums. */
const BINARY_CODES: Readonly<Record<string, number>> = { Add: 0, Sub: 1, Mul: 2, Div: 3 };
const FORM = { same: 0, bMid: 1, aMid: 2 } as const;

const count = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

export interface MidView {
  readonly outer: number;
  readonly mid: number;
  readonly inner: number;
}

/**
 * How an operand that broadcasts to `out` reads as [outer, mid, inner] with its values along mid:
 * its non-1 dims (right-aligned) must be one contiguous run equal to the output's there (a
 * scalar, a row vector, a per-channel [C,1,1]...). Undefined for other broadcasts.
 */
export function midView(out: readonly number[], small: readonly number[]): MidView | undefined {
  const padded = [...Array<number>(out.length - small.length).fill(1), ...small];
  const total = count(out);
  const big = padded.flatMap((d, i) => (d !== 1 ? [i] : []));
  if (big.length === 0) return { outer: 1, mid: 1, inner: total };
  const [p, q] = [big[0]!, big[big.length - 1]!];
  for (let i = p; i <= q; i++) if (padded[i] !== out[i]) return undefined;
  return { outer: count(out.slice(0, p)), mid: count(out.slice(p, q + 1)), inner: count(out.slice(q + 1)) };
}

/** kiln_binary_int's op codes (kernels/wasm/src/eltwise-int.c): Add, Sub, Mul. */
const INT_CODES: Readonly<Record<string, number>> = { Add: 0, Sub: 1, Mul: 2 };

/**
 * int32/int64 Add, Sub, Mul, any broadcast of both operands: wrapping two's-complement arithmetic,
 * as onnxruntime's. (The reference computes in doubles: equal while results stay below 2^53.)
 */
function lowerInt(opType: string, a: TensorMeta, b: TensorMeta, out: readonly number[]): WasmStep | undefined {
  const code = INT_CODES[opType];
  if (code === undefined || a.dtype !== b.dtype || (a.dtype !== 'int32' && a.dtype !== 'int64')) return undefined;
  const desc = broadcastWalk(out, [a.dims, b.dims]);
  if (!desc) return undefined;
  const t = DTYPE_CODE[a.dtype]!;
  return singleExportStep('kiln_binary_int', (at) => [code, t, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!, at.persistent[0]!], {
    reads: [0, 1],
    persistent: desc,
    empty: out.includes(0),
  });
}

function lowerBinary(opType: string): WasmKernel {
  const code = BINARY_CODES[opType]!;
  return (inputs, outputs) => {
    const [a, b] = [inputs[0], inputs[1]];
    if (a && b && a.dtype !== 'float32') return lowerInt(opType, a, b, outputs[0]!.dims);
    if (a?.dtype !== 'float32' || b?.dtype !== 'float32') return undefined;
    const out = outputs[0]!.dims;
    const n = count(out);
    const [na, nb] = [count(a.dims), count(b.dims)];
    let form: number;
    let view: MidView | undefined;
    if (na === n && nb === n) [form, view] = [FORM.same, { outer: 1, mid: 1, inner: n }];
    else if (na === n) [form, view] = [FORM.bMid, midView(out, b.dims)];
    else if (nb === n) [form, view] = [FORM.aMid, midView(out, a.dims)];
    else return undefined; // both operands broadcast: the js kernel
    if (!view) return undefined;
    const { outer, mid, inner } = view;
    return singleExportStep('kiln_binary_f32', (at) => [code, form, at.inputs[0]!, at.inputs[1]!, at.outputs[0]!, outer, mid, inner], {
      reads: [0, 1],
      elementwise: { kind: 'binary', code, full: form === FORM.same ? [0, 1] : form === FORM.bMid ? [0] : [1], mid, inner },
    });
  };
}

/** Pow with a constant scalar exponent of 2 or 3 (x^2 in LayerNorm and GELU decompositions): a unary pass; other exponents run js. */
const pow: WasmKernel = (inputs, outputs, ctx) => {
  const e = ctx.constants[1];
  // float16 data holds bits and int4 packs two values a byte: only types whose element is the value
  if (inputs[0]?.dtype !== 'float32' || !e || e.size !== 1 || !['float32', 'float64', 'int32', 'int64'].includes(e.type)) return undefined;
  const exponent = Number(e.data[0]);
  const code = exponent === 2 ? SQUARE_CODE : exponent === 3 ? CUBE_CODE : undefined;
  return code === undefined ? undefined : unaryStep(code, count(outputs[0]!.dims), []);
};

export const wasm: ImplementationTable<WasmKernel> = {
  ...Object.fromEntries(Object.keys(BINARY_CODES).map((op) => [opKey('', op), lowerBinary(op)])),
  [opKey('', 'Pow')]: pow,
};
