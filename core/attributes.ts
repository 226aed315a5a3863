import type { AnyTensor } from './tensor.ts';
import { fail } from './errors.ts';

/**
 * A graph-valued attribute (If/Loop/Scan bodies). core/ imports nothing of the runtime, so it is
 * carried opaquely here; runtime/graph/ir.ts's Graph is what the ONNX reader stores.
 */
export interface SubgraphValue {
  readonly nodes: readonly unknown[];
}

export type AttributeValue = number | string | AnyTensor | SubgraphValue | number[] | string[] | AnyTensor[] | SubgraphValue[];

/** Typed read access to a node's attributes; a wrong-typed attribute is a clear model error. */
export class Attributes {
  constructor(
    private readonly values: ReadonlyMap<string, AttributeValue>,
    private readonly owner = 'node',
  ) {}

  static empty(): Attributes {
    return new Attributes(new Map());
  }

  /** A copy with one attribute set (graph passes use this; attributes are otherwise immutable). */
  with(name: string, value: AttributeValue): Attributes {
    return new Attributes(new Map([...this.values, [name, value]]), this.owner);
  }

  /** A copy without one attribute (a graph pass moving a fold elsewhere). */
  without(name: string): Attributes {
    const values = new Map(this.values);
    values.delete(name);
    return new Attributes(values, this.owner);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  raw(name: string): AttributeValue | undefined {
    return this.values.get(name);
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.wrong(name, 'an integer');
    return v;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    // an ONNX float attribute is float32: a default written in code (HardSigmoid's alpha 0.2) or a
    // value a pass computed is rounded as the model file would hold it, so a graph gives the same
    // answers before and after it is written out (and onnxruntime's, whose defaults are 0.2f)
    const v = this.values.get(name);
    if (v === undefined) return fallback === undefined ? undefined : Math.fround(fallback);
    if (typeof v !== 'number') return this.wrong(name, 'a float');
    return Math.fround(v);
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const v = this.values.get(name);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') return this.wrong(name, 'a string');
    return v;
  }

  ints(name: string, fallback: readonly number[]): readonly number[];
  ints(name: string): readonly number[] | undefined;
  ints(name: string, fallback?: readonly number[]): readonly number[] | undefined {
    const v = this.values.get(name);
    if (v === undefined) return fallback;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) return this.wrong(name, 'a list of integers');
    return v as number[];
  }

  floats(name: string, fallback: readonly number[]): readonly number[];
  floats(name: string): readonly number[] | undefined;
  floats(name: string, fallback?: readonly number[]): readonly number[] | undefined {
    return this.ints(name, fallback as readonly number[]);
  }

  strings(name: string): readonly string[] | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return this.wrong(name, 'a list of strings');
    return v as string[];
  }

  tensor(name: string): AnyTensor | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v) || !('dims' in v)) return this.wrong(name, 'a tensor');
    return v;
  }

  /** Canonical text of all attributes, for cache keys and debugging. */
  toString(): string {
    const parts: string[] = [];
    for (const [k, v] of [...this.values].sort(([a], [b]) => (a < b ? -1 : 1))) {
      parts.push(`${k}=${typeof v === 'object' && !Array.isArray(v) ? '<obj>' : JSON.stringify(v)}`);
    }
    return parts.join(';');
  }

  private wrong(name: string, what: string): never {
    return fail('INVALID_MODEL', `${this.owner}: attribute '${name}' must be ${what}`);
  }
}
