// The browser page's script: loads the library through the page's import map (the bundled
// dist/index.js, or a bundle of gpu/ before the library build exists), runs the shared scenario
// on WebGPU and leaves the outcome on globalThis for the test to collect.

import type { Backend } from '../../src/backend.js';
import { runScenario, type ScenarioResult } from './scenario.js';

interface LibraryShape {
  createRuntime?: (options: { backend: 'webgpu' }) => Promise<{ compute: Backend }>;
  createWebGpuBackend?: () => Promise<Backend>;
}

export interface PageOutcome {
  ok: boolean;
  error?: string;
  description?: string;
  crossOriginIsolated: boolean;
  result?: ScenarioResult;
}

// A variable specifier: the bundler leaves it alone and the import map resolves it.
const LIBRARY = 'ivon-edge';

async function main(): Promise<PageOutcome> {
  try {
    const lib = (await import(/* @vite-ignore */ LIBRARY)) as LibraryShape;
    const backend = lib.createRuntime ? (await lib.createRuntime({ backend: 'webgpu' })).compute : await lib.createWebGpuBackend!();
    const result = await runScenario(backend);
    await backend.dispose();
    return { ok: true, description: backend.description, crossOriginIsolated: globalThis.crossOriginIsolated, result };
  } catch (err) {
    return { ok: false, error: String((err as Error).stack ?? err), crossOriginIsolated: globalThis.crossOriginIsolated };
  }
}

(globalThis as { ivonOutcome?: Promise<PageOutcome> }).ivonOutcome = main();
