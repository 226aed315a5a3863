import { fail } from '../../core/errors.ts';
import type { AnyTensor } from '../../core/tensor.ts';
import type { TensorMeta } from '../contract.ts';
import type { BufferRef, GpuCaps, GpuProgram } from '../webgpu/contract.ts';
import { packedPerWord, storageType, type WgslType } from './storage.ts';

/**
 * Builds one compute shader. It owns everything index-related so op code never writes stride
 * arithmetic: shapes and strides travel as uniforms (one pipeline per rank/dtype pattern, not per
 * shape), offset<->indices and broadcasting helpers are generated per tensor, and the entry point
 * computes a flat `global_idx` across a 2-D dispatch so large tensors fit the per-dimension limit.
 */
export class ShaderBuilder {
  private readonly storage: { name: string; type: WgslType; access: 'read' | 'read_write'; ref: BufferRef; atomic?: boolean; vec4?: boolean }[] = [];
  private readonly words: number[] = [];
  private readonly accessors: string[] = [];
  private readonly helperFns = new Map<string, string>();
  private readonly directives = new Set<string>();
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  constructor(readonly caps: GpuCaps) {}

  input(name: string, meta: TensorMeta, index: number): TensorVar {
    return this.tensor(name, meta, { kind: 'input', index }, 'read');
  }

  output(name: string, meta: TensorMeta, index = 0): TensorVar {
    return this.tensor(name, meta, { kind: 'output', index }, 'read_write');
  }

  temp(name: string, meta: TensorMeta, index: number, access: 'read' | 'read_write' = 'read_write'): TensorVar {
    return this.tensor(name, meta, { kind: 'temp', index }, access);
  }

  /**
   * A read-only tensor of values the kernel computed at plan time (a lookup table), uploaded once per
   * session by the backend and read by index. A uniform array read at a per-lane index costs far more:
   * SwiftShader gathered 147k table entries at ~15 ns each from a uniform, ~3.4 ns from storage.
   * 32-bit types only (narrow constants would be packed; the caller widens them).
   */
  constant(name: string, data: AnyTensor): TensorVar {
    if (data.type !== 'float32' && data.type !== 'int32' && data.type !== 'uint32') fail('INTERNAL', `constant '${name}' of type ${data.type}: widen it to 32 bits`);
    const index = this.storage.filter((s) => s.ref.kind === 'constant').length;
    return this.tensor(name, { dtype: data.type, dims: data.dims }, { kind: 'constant', index, data }, 'read');
  }

  /** A scalar uniform; returns the WGSL expression that reads it. */
  uniform(name: string, type: WgslType, value: number): string {
    this.uniformArray(name, type, [value]);
    return `${name}(0u)`;
  }

  /** An array uniform; returns the accessor function name, called as `name(i)`. */
  uniformArray(name: string, type: WgslType, values: readonly number[]): string {
    const offset = this.words.length;
    for (const v of values) this.words.push(this.encode(type, v));
    if (values.length === 0) this.words.push(0);
    const read = `kiln_u.w[(${offset}u + i) >> 2u][(${offset}u + i) & 3u]`;
    const expr = type === 'u32' ? read : `bitcast<${type}>(${read})`;
    this.accessors.push(`fn ${name}(i: u32) -> ${type} { return ${expr}; }`);
    return name;
  }

  /** A global directive placed before every declaration, e.g. `enable subgroups;` (once each). */
  directive(text: string): void {
    this.directives.add(text);
  }

  /** Registers a helper function once (by name). */
  helper(name: string, source: string): void {
    this.helperFns.set(name, source);
  }

  /** Whether a uniform (or uniform array) of this name is declared. */
  hasUniform(name: string): boolean {
    return this.accessors.some((a) => a.startsWith(`fn ${name}(`));
  }

  /** Whether a helper of this name is registered (a caller that emits a helper once, with its uniforms). */
  hasHelper(name: string): boolean {
    return this.helperFns.has(name);
  }

  /**
   * Finishes the program. `body` runs once per invocation after `global_idx` is defined;
   * `totalInvocations` sets the dispatch (split over x and y when over the per-dimension limit).
   */
  build(opts: { label: string; body: string; totalInvocations: number; workgroupSize?: number; preamble?: string; dispatch?: readonly [number, number, number] }): GpuProgram {
    const wg = opts.workgroupSize ?? 64;
    const dispatch = opts.dispatch ?? this.dispatchFor(opts.totalInvocations, wg);
    const lines: string[] = [...this.directives];
    if (this.words.length === 0) this.words.push(0);
    this.storage.forEach((b, i) => {
      const elem = b.atomic ? `atomic<${b.type}>` : b.vec4 ? `vec4<${b.type}>` : b.type;
      lines.push(`@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<${elem}>;`);
    });
    const vec4s = Math.ceil(this.words.length / 4);
    lines.push(`struct KilnUniforms { w: array<vec4<u32>, ${vec4s}> };`);
    lines.push(`@group(0) @binding(${this.storage.length}) var<uniform> kiln_u: KilnUniforms;`);
    lines.push(...this.accessors, ...this.helperFns.values());
    if (opts.preamble) lines.push(opts.preamble);
    lines.push(
      `@compute @workgroup_size(${wg})`,
      'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) local_idx: u32, @builtin(workgroup_id) wid: vec3<u32>) {',
      `  let global_idx = gid.x + gid.y * nwg.x * ${wg}u;`,
      `  let workgroup_idx = wid.x + wid.y * nwg.x;`,
      opts.body,
      '}',
    );
    const padded = new Uint32Array(vec4s * 4);
    padded.set(this.words);
    return { label: opts.label, shader: lines.join('\n'), bindings: this.storage.map((b) => (b.ref.kind === 'temp' && b.access === 'read' ? { ...b.ref, readOnly: true } : b.ref)), uniforms: padded, dispatch };
  }

  dispatchFor(invocations: number, workgroupSize: number): [number, number, number] {
    const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
    const max = this.caps.maxWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    if (y > max) fail('DEVICE_LIMIT', `${invocations} invocations exceed the device's dispatch limit (${max}^2 workgroups of ${workgroupSize})`);
    return [Math.ceil(groups / y), y, 1];
  }

  private tensor(name: string, meta: TensorMeta, ref: BufferRef, access: 'read' | 'read_write'): TensorVar {
    const type = storageType(meta.dtype);
    if (!type) fail('INTERNAL', `tensor '${name}' of type ${meta.dtype} has no GPU storage type`);
    const perWord = meta.packed ? packedPerWord(meta.dtype) : undefined;
    if (meta.packed && (!perWord || access !== 'read')) fail('INTERNAL', `tensor '${name}': only 8/4-bit inputs can be packed`);
    this.storage.push({ name, type: perWord ? 'u32' : type, access, ref });
    if (perWord) this.helper(`${name}_at`, packedReader(name, perWord, type === 'i32'));
    const dims = meta.dims.length === 0 ? [1] : meta.dims;
    const strides = stridesOf(dims);
    this.uniformArray(`${name}_shape`, 'u32', dims);
    this.uniformArray(`${name}_strides`, 'u32', strides);
    return new TensorVar(this, name, type, dims.length, dims.reduce((a, b) => a * b, 1), perWord);
  }

  /**
   * The body of a same-shape elementwise kernel over `count` elements of `out`: binds each operand's
   * value to a `let` and stores `value` (a scalar WGSL expression over those names) into `out`.
   * Operands either have `count` elements laid out like `out` (read at the same flat offset) or one
   * element (read at 0). When `count % 4 == 0` and no operand is packed, the tensors of `count`
   * elements are declared as `array<vec4<T>>`: each invocation loads one vec4 per operand, runs the
   * scalar math once per lane (so every op's math string works unchanged) and stores one vec4.
   * Otherwise (tails, packed inputs) the scalar form. The form is in the WGSL, hence in the pipeline
   * cache key; `invocations` is what `build` must be given.
   */
  elementwise(opts: { out: TensorVar; count: number; operands: readonly ElementwiseOperand[]; value: string; countUniform?: string; allowVec4?: boolean; finish?: LaneFinish }): { body: string; invocations: number; vec4: boolean } {
    const { out, count, operands, value, finish } = opts;
    const full = operands.filter((o) => o.tensor.size === count || o.tensor.size !== 1);
    for (const o of full) if (o.tensor.size !== count) fail('INTERNAL', `elementwise operand '${o.tensor.name}' has ${o.tensor.size} elements, not ${count} or 1`);
    const n = opts.countUniform ?? this.uniform('n', 'u32', count);
    const vec4 = (opts.allowVec4 ?? true) && count % 4 === 0 && count > 0 && !out.packedPerWord && full.every((o) => !o.tensor.packedPerWord);
    const wrap = (o: ElementwiseOperand, v: string): string => (o.wrap ? o.wrap(v) : v);
    if (!vec4) {
      const lines = [`  if (global_idx >= ${n}) { return; }`];
      for (const o of operands) lines.push(`  let ${o.name} = ${wrap(o, o.tensor.get(o.tensor.size === count ? 'global_idx' : '0u'))};`);
      lines.push(`  ${out.set('global_idx', finish ? finish.scalar(value) : value)}`);
      return { body: lines.join('\n'), invocations: count, vec4: false };
    }
    for (const t of new Set([out, ...full.map((o) => o.tensor)])) this.declareVec4(t.name);
    const lines = [`  if (global_idx >= (${n} >> 2u)) { return; }`];
    for (const o of operands) lines.push(o.tensor.size === count ? `  let ${o.name}_v4 = ${o.tensor.name}[global_idx];` : `  let ${o.name} = ${wrap(o, o.tensor.get('0u'))};`);
    lines.push(`  var kiln_r: vec4<${finish ? finish.laneType : out.type}>;`);
    for (let l = 0; l < 4; l++) {
      const lets = full.map((o) => `let ${o.name} = ${wrap(o, `${o.name}_v4[${l}]`)};`).join(' ');
      lines.push(`  { ${lets} kiln_r[${l}] = ${value}; }`);
    }
    lines.push(`  ${out.name}[global_idx] = ${finish ? finish.vec4('kiln_r') : 'kiln_r'};`);
    return { body: lines.join('\n'), invocations: count / 4, vec4: true };
  }

  /**
   * Declares a buffer's elements as vec4: the caller then indexes it in vec4 units (`name[i]`, not
   * `get`), and must only do so where the tensor's element count and offsets are multiples of 4.
   */
  declareVec4(name: string): void {
    const b = this.storage.find((s) => s.name === name);
    if (!b || b.atomic) fail('INTERNAL', `cannot vectorize buffer '${name}'`);
    b.vec4 = true;
  }

  /** Marks an already-declared buffer as atomic (for scatter-style accumulation). */
  makeAtomic(name: string): void {
    const b = this.storage.find((s) => s.name === name);
    if (b) b.atomic = true;
  }

  private encode(type: WgslType, v: number): number {
    if (type === 'f32') {
      this.f32[0] = v;
      return this.u32[0]!;
    }
    if (!Number.isInteger(v)) fail('INTERNAL', `uniform value ${v} is not an integer`);
    return v >>> 0;
  }
}

/**
 * A last step the vec4 forms run on all four lanes at once (`vec4`, over a vec4<laneType> of the lanes'
 * values) and the scalar forms per element (`scalar`): QuantizeLinear's rounding, whose rarely needed
 * exact division is cheap only as one loop per invocation (quant-round-wgsl.ts wgslQuantRound4).
 */
export interface LaneFinish {
  readonly laneType: WgslType;
  readonly vec4: (lanes: string) => string;
  readonly scalar: (value: string) => string;
}

/** One operand of `ShaderBuilder.elementwise`: the `let` name the value expression uses. */
export interface ElementwiseOperand {
  readonly name: string;
  readonly tensor: TensorVar;
  /** converts the loaded element, e.g. to the compute type */
  readonly wrap?: (value: string) => string;
}

/** Little-endian element order inside each word, as ONNX packs int4 and as bytes lie in memory. */
function packedReader(name: string, perWord: number, signed: boolean): string {
  const bits = 32 / perWord;
  const shift = perWord === 4 ? 2 : 3;
  const word = `${name}[i >> ${shift}u]`;
  // the element's bits moved to the top, then shifted down (arithmetic for signed: sign-extends).
  // SwiftShader, int8 QLinearConv 1x1 64->64 on 24x96, one core: extractBits 13.0-13.7 ms, these two
  // shifts 11.5-11.7, constant shifts of all four lanes and a select tree slower again (decisions.md
  // quantize-cost)
  const up = `((${perWord - 1}u - (i & ${perWord - 1}u)) * ${bits}u)`;
  return signed
    ? `fn ${name}_at(i: u32) -> i32 { return (bitcast<i32>(${word}) << ${up}) >> ${32 - bits}u; }`
    : `fn ${name}_at(i: u32) -> u32 { return (${word} << ${up}) >> ${32 - bits}u; }`;
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** A tensor as seen from WGSL; every method returns a WGSL expression or statement. */
export class TensorVar {
  constructor(
    private readonly b: ShaderBuilder,
    readonly name: string,
    readonly type: WgslType,
    readonly rank: number,
    /** element count at build time; not baked into WGSL */
    readonly size: number,
    /** values per u32 word when the buffer is packed (8-bit: 4, 4-bit: 8) */
    readonly packedPerWord?: number,
  ) {}

  get indicesType(): string {
    return `array<u32, ${this.rank}>`;
  }

  shape(i: number | string): string {
    return `${this.name}_shape(${typeof i === 'number' ? `${i}u` : i})`;
  }

  stride(i: number | string): string {
    return `${this.name}_strides(${typeof i === 'number' ? `${i}u` : i})`;
  }

  /** The element at flat `offset`, in the compute type `this.type` (unpacked if stored packed). */
  get(offset: string): string {
    return this.packedPerWord ? `${this.name}_at(${offset})` : `${this.name}[${offset}]`;
  }

  set(offset: string, value: string): string {
    return `${this.name}[${offset}] = ${value};`;
  }

  /** `array<u32, rank>` holding the indices of flat element `offset`. */
  offsetToIndices(offset: string): string {
    const fn = `${this.name}_o2i`;
    const body = [`fn ${fn}(offset: u32) -> ${this.indicesType} {`, `  var idx: ${this.indicesType};`, '  var rest = offset;'];
    for (let i = 0; i < this.rank; i++) {
      body.push(`  idx[${i}] = rest / ${this.stride(i)};`, `  rest = rest % ${this.stride(i)};`);
    }
    body.push('  return idx;', '}');
    this.b.helper(fn, body.join('\n'));
    return `${fn}(${offset})`;
  }

  indicesToOffset(indices: string): string {
    const fn = `${this.name}_i2o`;
    const terms = Array.from({ length: this.rank }, (_, i) => `idx[${i}] * ${this.stride(i)}`).join(' + ');
    this.b.helper(fn, `fn ${fn}(idx: ${this.indicesType}) -> u32 { return ${terms}; }`);
    return `${fn}(${indices})`;
  }

  /**
   * Offset into this tensor for the element at `indices` of a (larger-rank) tensor `of`, with
   * numpy broadcasting: leading dims of `of` are dropped, size-1 dims of this tensor read index 0.
   */
  broadcastedOffset(of: TensorVar, indices: string): string {
    const fn = `${this.name}_bcast_${of.name}`;
    const shift = of.rank - this.rank;
    if (shift < 0) fail('INTERNAL', `cannot broadcast rank ${this.rank} into rank ${of.rank}`);
    const terms = Array.from({ length: this.rank }, (_, i) => `select(idx[${i + shift}], 0u, ${this.shape(i)} == 1u) * ${this.stride(i)}`);
    this.b.helper(fn, `fn ${fn}(idx: ${of.indicesType}) -> u32 { return ${terms.join(' + ') || '0u'}; }`);
    return `${fn}(${indices})`;
  }
}
