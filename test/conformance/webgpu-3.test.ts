import { registerConformance } from './register-conformance.ts';

registerConformance('webgpu', { index: 2, count: 3 });
