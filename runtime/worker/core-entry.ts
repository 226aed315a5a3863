// The runtime for sessions in the calling thread ({ worker: false }) in browser builds: bundled into
// kiln.iife.js, and kiln.core.mjs beside kiln.mjs (loaded only when such a session is created).
export { InferenceSession } from '../api/inference-session.ts';
/** generate()'s loop for sessions of this bundle (the page's generate() hands browser sessions to it) */
export const loadGenerateHere = (): Promise<typeof import('../generate/generate-here.ts')> => import('../generate/generate-here.ts');
