// The runtime for sessions in the calling thread ({ worker: false }) in browser builds: bundled into
// kiln.iife.js, and kiln.core.mjs beside kiln.mjs (loaded only when such a session is created).
export { InferenceSession } from '../api/inference-session.ts';
