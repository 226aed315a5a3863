// The attribute names of QLinearConv's folded QuantizeLinear / QLinearAdd / QLinearLookup / DequantizeLinear
// (fused-io.ts), in a file of their own so the graph pass that writes them stays out of the lazily
// loaded quantized kernels.
export const QUANTIZE_X_ATTR = 'kiln_quantize_x';
export const LOOKUP_ATTR = 'kiln_lookup_table';
export const DQ_SCALE_ATTR = 'kiln_dequantize_scale';
export const DQ_ZERO_POINT_ATTR = 'kiln_dequantize_zero_point';
/** a float32 [N] bias added after the folded DequantizeLinear (QLinearMatMul only: a classifier head's MatMul + Add) */
export const DQ_BIAS_ATTR = 'kiln_dequantize_bias';
/** The widest such bias the WebGPU store holds (in its uniforms, 16 KB): the pass folds none wider */
export const MAX_DQ_BIAS = 4096;
/** float32 [s, z, s_residual, z_residual, s_out, z_out] of a folded com.microsoft QLinearAdd */
export const ADD_ATTR = 'kiln_add_params';
/** the folded QLinearAdd's other operand: an input slot past QLinearConv's own nine and the wasm pass's table */
export const RESIDUAL_SLOT = 10;
