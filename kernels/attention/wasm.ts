import type { ImplementationTable } from '../contract.ts';
import { opKey } from '../contract.ts';
import type { WasmExport, WasmKernel } from '../wasm/contract.ts';
import { causalSkipEnd } from './contrib-mask.ts';
import type { HeadLayout } from './core.ts';
import { ATTN_BIAS, BIAS, K, MASK, mhaPlan, PAST_K, PAST_V, Q, V } from './multi-head-op.ts';

/**
 * com.microsoft MultiHeadAttention in wasm (kernels/wasm/src/attention.c): float32, one output
 * (no present_key / present_value), no bias, key_padding_mask, attention_bias or past; causal only
 * where the js fast path drops the masked keys exactly (contrib-mask.ts causalSkipEnd) and the key
 * length equals the query length. Every input form (3-D, [B, N, L, H], packed QKV / KV) is read in
 * place through its head layout. Anything else runs the js kernel.
 */
const multiHead: WasmKernel = (inputs, outputs, ctx) => {
  const q = inputs[Q];
  if (q?.dtype !== 'float32' || outputs.length !== 1) return undefined;
  if (inputs[BIAS] || inputs[MASK] || inputs[ATTN_BIAS] || inputs[PAST_K] || inputs[PAST_V]) return undefined;
  const p = mhaPlan(inputs, ctx);
  if (p.P !== 0 || p.mask !== 'none') return undefined;
  if (p.causal && (p.T !== p.S || !causalSkipEnd(p.mask, p.causal, p.S, p.filter, false))) return undefined;
  const layout = (l: HeadLayout): number[] => [l.base, l.sb, l.sl, l.sn];
  const desc = Int32Array.from([p.B, p.N, p.S, p.T, p.H, p.Hv, p.causal ? 1 : 0, ...layout(p.q), ...layout(p.k), ...layout(p.v)]);
  // packed QKV reads K and V out of the query tensor; packed KV reads V out of the key tensor
  const kSlot = p.form === 'packed-qkv' ? Q : K;
  const vSlot = p.form === 'packed-qkv' ? Q : p.form === 'packed-kv' ? K : V;
  const reads = [...new Set([Q, kSlot, vSlot])];
  let f: WasmExport | undefined;
  return {
    reads,
    scratchBytes: Math.max(1, p.T) * 4,
    persistentBytes: [desc.byteLength],
    prepare(k, at) {
      f = k.fn('kiln_attention_f32');
      new Int32Array(k.memory.buffer, at.persistent[0]!, desc.length).set(desc);
    },
    run(k, at) {
      f ??= k.fn('kiln_attention_f32');
      f(at.inputs[Q]!, at.inputs[kSlot]!, at.inputs[vSlot]!, at.outputs[0]!, at.scratch, at.persistent[0]!, p.scale);
    },
  };
};

export const wasm: ImplementationTable<WasmKernel> = { [opKey('com.microsoft', 'MultiHeadAttention')]: multiHead };
