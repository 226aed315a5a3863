#!/usr/bin/env node
// Idempotent setup for `npm test` and `npm start` on a fresh clone: npm packages, Debian chromium
// (browser tests, and SwiftShader's Vulkan driver for WebGPU in Node), the Vulkan loader, and
// clang-19 + lld-19 to build the wasm backend's kernels (dist/wasm/, rebuilt when older than
// kernels/wasm/src; scripts/build-wasm.mjs).
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { buildWasm, clangCommand, wasmBuildIsStale } from './build-wasm.mjs';

const run = (cmd) => execSync(cmd, { stdio: 'inherit' });
const quiet = (cmd) => {
  try {
    execSync(cmd, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const lockTime = existsSync('package-lock.json') ? statSync('package-lock.json').mtimeMs : 0;
const installedTime = existsSync('node_modules/.package-lock.json') ? statSync('node_modules/.package-lock.json').mtimeMs : -1;
if (installedTime < lockTime) {
  console.log('[setup] installing npm packages (npm ci)');
  run('npm ci --no-audit --no-fund');
}

const needs = [];
if (!existsSync('/usr/bin/chromium')) needs.push('chromium');
if (!quiet('ldconfig -p | grep -q libvulkan.so.1')) needs.push('libvulkan1');
const wasmStale = wasmBuildIsStale();
// Only needed when the wasm modules must be (re)built; clang-19 finds lld-19's wasm-ld itself.
if (wasmStale && !process.env.KILN_CLANG && !(existsSync('/usr/bin/clang-19') && existsSync('/usr/lib/llvm-19/bin/wasm-ld'))) needs.push('clang-19', 'lld-19');
if (needs.length > 0) {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  console.log(`[setup] installing Debian packages: ${needs.join(' ')}`);
  run(`${sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq ${needs.join(' ')}`);
}

if (wasmStale) {
  console.log(`[setup] building the wasm kernels with ${clangCommand()} (dist/wasm/)`);
  buildWasm();
}
