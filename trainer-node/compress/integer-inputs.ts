// What synthetic values an integer (or bool) model input can take without --calib: random ids
// would index past an embedding table ("index 2 is out of range" on BERT's 2-row token-type
// table), so each such input is traced through value-preserving ops to the Gathers it indexes,
// and ids are drawn below the smallest table it reaches. Segment/token-type ids are 0, attention
// masks are all ones; an integer input whose valid values cannot be told is refused, naming --calib.
import type { AnyTensor } from '../../core/tensor.ts';
import { fail } from '../../core/errors.ts';
import type { WriterModel } from '../../runtime/format/onnx/onnx-writer.ts';

export type IntegerFill =
  /** uniform in [0, rows): rows of the smallest table the ids index */
  | { readonly kind: 'ids'; readonly rows: number }
  | { readonly kind: 'zeros'; readonly why: string }
  | { readonly kind: 'ones'; readonly why: string };

/** Ops that pass their first input's values through unchanged (only the shape or type changes). */
const VALUE_PRESERVING = new Set(['Cast', 'Identity', 'Unsqueeze', 'Squeeze', 'Reshape', 'Flatten', 'Expand', 'Transpose']);
const SEGMENT = /token_?type|segment/i;
const MASK = /mask/i;

/** How to fill the model input `name` (integer or bool dtype). */
export function integerFill(model: WriterModel, name: string): IntegerFill {
  const rows = gatheredRows(model, name);
  if (rows !== undefined) {
    if (rows < 1) fail('INVALID_ARGUMENT', `input '${name}' indexes an empty table: pass --calib DIR with ${name}.npy`);
    return SEGMENT.test(name) ? { kind: 'zeros', why: 'segment ids' } : { kind: 'ids', rows };
  }
  if (MASK.test(name)) return { kind: 'ones', why: 'attention mask' };
  if (SEGMENT.test(name)) return { kind: 'zeros', why: 'segment ids' };
  return fail('INVALID_ARGUMENT', `input '${name}' holds integers whose valid range Kiln cannot tell (it indexes no constant table and is not named like a mask or segment ids): pass --calib DIR with ${name}.npy holding real samples`);
}

/** The fewest rows among the constant Gather tables `name`'s values index, if any. */
function gatheredRows(model: WriterModel, name: string): number | undefined {
  const consumers = new Map<string, WriterModel['nodes'][number][]>();
  for (const n of model.nodes) for (const i of n.inputs) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const constant = constantTensors(model);
  let rows: number | undefined;
  const seen = new Set<string>([name]);
  const queue = [name];
  while (queue.length > 0) {
    const value = queue.pop()!;
    for (const n of consumers.get(value) ?? []) {
      if (n.opType === 'Gather' && n.inputs[1] === value) {
        const table = constant.get(n.inputs[0] ?? '');
        const axis = typeof n.attrs?.axis === 'number' ? n.attrs.axis : 0;
        const dim = table?.dims[axis < 0 ? axis + table.dims.length : axis];
        if (dim !== undefined) rows = Math.min(rows ?? dim, dim);
      } else if (VALUE_PRESERVING.has(n.opType) && n.inputs[0] === value && n.outputs[0] && !seen.has(n.outputs[0])) {
        seen.add(n.outputs[0]);
        queue.push(n.outputs[0]);
      }
    }
  }
  return rows;
}

/** Initializers, and tables behind a DequantizeLinear of one (their shape is the table's). */
function constantTensors(model: WriterModel): Map<string, AnyTensor> {
  const inits = model.initializers instanceof Map ? new Map(model.initializers) : new Map(Object.entries(model.initializers ?? {}));
  for (const n of model.nodes) {
    const q = n.opType === 'DequantizeLinear' ? inits.get(n.inputs[0] ?? '') : undefined;
    if (q && n.outputs[0]) inits.set(n.outputs[0], q);
  }
  return inits;
}
