import type { AnyTensor } from '../../core/tensor.ts';
import type { DataType } from '../../core/dtype.ts';
import type { Attributes } from '../../core/attributes.ts';

/** A dimension is a number when known, a name when symbolic ("batch"), or undefined when unknown. */
export type Dim = number | string | undefined;

export interface ValueInfo {
  readonly name: string;
  readonly dtype: DataType;
  /** undefined when the rank itself is unknown */
  readonly dims: readonly Dim[] | undefined;
}

export interface Node {
  /** unique within the graph; generated from the op type when the model has none */
  readonly name: string;
  readonly opType: string;
  /** '' for the default ONNX domain */
  readonly domain: string;
  /** '' marks an omitted optional input */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attributes;
}

export interface Graph {
  nodes: Node[];
  readonly initializers: Map<string, AnyTensor>;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly valueInfo: ReadonlyMap<string, ValueInfo>;
}

export interface Model {
  readonly graph: Graph;
  /** domain ('' for ai.onnx) -> opset version */
  readonly opsets: ReadonlyMap<string, number>;
  readonly irVersion: number;
  readonly producer: string;
  readonly metadata: ReadonlyMap<string, string>;
}

export function opsetOf(model: Pick<Model, 'opsets'>, domain: string): number {
  return model.opsets.get(domain === 'ai.onnx' ? '' : domain) ?? 0;
}
