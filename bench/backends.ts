// Opens a runtime for a backend name, or says why it cannot (module not written yet, no adapter,
// no worker support). Suites skip with that reason instead of failing, and never fake numbers.

import type { Backend } from '../src/backend.js';
import type { Runtime } from '../src/runtime.js';
import { reasonOf } from './context.js';

export type Opened = { ok: true; runtime: Runtime; backend: Backend } | { ok: false; reason: string };

const MISSING: Record<string, string> = {
  wasm: 'the WASM backend (src/backends/wasm.ts) is not available',
  webgpu: 'the WebGPU backend (gpu/webgpu-backend.ts) is not available',
};

export async function openRuntime(kind: 'js' | 'wasm' | 'webgpu', extra: Record<string, unknown> = {}): Promise<Opened> {
  try {
    const { createRuntime } = await import('../src/runtime.js');
    const runtime = await createRuntime({ backend: kind, ...extra } as Parameters<typeof createRuntime>[0]);
    if (runtime.backend !== kind) {
      await runtime.dispose();
      return { ok: false, reason: `createRuntime({ backend: '${kind}' }) gave '${runtime.backend}'` };
    }
    return { ok: true, runtime, backend: runtime.compute };
  } catch (error) {
    const text = reasonOf(error);
    const missingModule = /Cannot find module|ERR_MODULE_NOT_FOUND|Failed to load/.test(text);
    return { ok: false, reason: missingModule && MISSING[kind] ? `${MISSING[kind]}: ${text}` : text };
  }
}

/** Gives the GPU back after WebGPU suites so Node can exit (Dawn keeps the process alive). */
export async function releaseWebGpu(): Promise<void> {
  try {
    const { releaseGpu } = await import('../gpu/gpu-provider.js');
    releaseGpu();
  } catch {
    // no WebGPU module: nothing to release
  }
}

/**
 * Disposes a runtime, but never waits forever: a dispose that hangs (a stuck worker) is reported
 * and the run goes on. Returns the problem, or undefined when it went well.
 */
export async function disposeWithin(runtime: Runtime, ms = 10_000): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`runtime.dispose() did not finish within ${ms} ms`), ms)));
  try {
    return await Promise.race([runtime.dispose().then(() => undefined, (error: unknown) => `runtime.dispose() failed: ${reasonOf(error)}`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
