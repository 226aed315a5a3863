#!/usr/bin/env node
// Idempotent setup for `npm test` and `npm start` on a fresh clone: npm packages, Debian chromium
// (browser tests, and SwiftShader's Vulkan driver for WebGPU in Node) and the Vulkan loader.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

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
if (needs.length > 0) {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  console.log(`[setup] installing Debian packages: ${needs.join(' ')}`);
  run(`${sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq ${needs.join(' ')}`);
}
