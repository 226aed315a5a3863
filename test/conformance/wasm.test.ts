import { registerConformance } from './register-conformance.ts';

// The wasm backend: ops with a wasm kernel run it, the others their js kernel inside the backend.
registerConformance('wasm');
