import { registerConformance } from './register-conformance.ts';

registerConformance('webgpu', { index: 1, count: 3 });
