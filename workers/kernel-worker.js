// @ts-check
// Kernel worker entry for browsers and Deno (module Web Workers): comlink over the worker's own
// global scope. The package ships it bundled, self-contained (dist/kernel-worker.js, exported as
// 'ivon-edge/kernel-worker'): serve that from your origin and pass its
// URL as createRuntime({ workerUrl }) under a strict CSP (no blob: workers needed).
import { startKernelWorker } from './kernel-worker-core.js';

startKernelWorker(/** @type {any} */ (globalThis), () => {
  /** @type {any} */ (globalThis).close();
  throw new Error('kernel worker closed (injected fault)');
});
