import { registerConformance } from './register-conformance.ts';

registerConformance('webgpu', { index: 0, count: 3 });
