import { registerConformance } from './register-conformance.ts';

// The kernel forms real GPUs get (workgroup-per-row reductions, hardware GEMM and Conv tiles).
registerConformance('webgpu', { index: 1, count: 2 }, 'hardware');
