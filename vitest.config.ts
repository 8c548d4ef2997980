// Test runner configuration: one Node project; WebGPU tests use Dawn (npm `webgpu`) over
// SwiftShader from Debian's chromium package, so point Vulkan at it when nothing else is set.
import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
