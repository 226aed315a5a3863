import { existsSync } from 'node:fs';

/** Environment every test process gets: WebGPU in Node runs on SwiftShader when no GPU driver is set. */
export function testEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!env.VK_ICD_FILENAMES && existsSync(swiftshader)) env.VK_ICD_FILENAMES = swiftshader;
  // Dawn logs a harmless warning per process without it.
  env.XDG_RUNTIME_DIR ??= '/tmp';
  return env;
}
