import type { OpDefinition } from '../contract.ts';
import { attention } from './attention-op.ts';
import { groupQueryAttention } from './group-query-op.ts';
import { multiHeadAttention } from './multi-head-op.ts';
import { onnxAttention } from './onnx-attention-op.ts';

// The fused attention ops; core.ts holds the math they share, each *-op.ts its input forms.
export const definitions: readonly OpDefinition[] = [multiHeadAttention, attention, groupQueryAttention, onnxAttention];
