// Debian's Chromium for browser tests (DESIGN.md section 7); never a downloaded browser.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Checked on Chromium 156 headless, 2 cores, no GPU: `--enable-unsafe-webgpu` is what turns WebGPU
 * on (without it requestAdapter() gives null on Linux); `--use-webgpu-adapter=swiftshader` pins the
 * adapter so results do not depend on the machine's GPU. `--enable-features=Vulkan` and
 * `--disable-gpu-sandbox` made no difference, so they are left out. `--no-sandbox` because tests
 * run as root in containers; the rest keep the browser from reaching the network.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}
