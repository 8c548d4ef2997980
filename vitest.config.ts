// Test runner configuration: one Node project; WebGPU tests use Dawn (npm `webgpu`) over
// SwiftShader from Debian's chromium package, so point Vulkan at it when nothing else is set.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;

export default defineConfig({
  // The examples import the package by name, as users do; in the tests that is the sources (as in
  // tsconfig.json's paths), so one copy of the library runs. test/consumers-* test the package.
  resolve: { alias: [{ find: /^ivon-edge$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
