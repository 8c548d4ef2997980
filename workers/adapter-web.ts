// Browsers: module Web Workers. An uncaught error in the worker is an 'error' event; a worker that
// closes itself sends nothing, which the pool's timeout catches. terminate() is immediate.
//
// The default worker is started with the literal `new Worker(new URL('./kernel-worker.js',
// import.meta.url), { type: 'module' })`: that exact form, in the module that starts the worker,
// is what Vite, webpack 5, Rollup and Parcel recognise and emit as a worker chunk of the app that
// bundles this library (a URL built anywhere else is copied or inlined as a plain asset, and the
// pool silently lost its workers). The shipped kernel-worker.js is also self-contained (no
// imports), so a bundler that does not chunk workers (esbuild) only has to copy it next to the
// bundle, and `workerUrl` can point at a copy served from anywhere (`ivon-edge/kernel-worker`).

import type { WorkerAdapter, WorkerHandle } from './adapter.js';

function startWebWorker(url: URL | string | undefined): Worker {
  // Options stay literals: Vite reads them statically.
  if (url === undefined) return new Worker(new URL('./kernel-worker.js', import.meta.url), { type: 'module', name: 'ivon-edge-kernel-worker' });
  return new Worker(url, { type: 'module', name: 'ivon-edge-kernel-worker' });
}

export function startModuleWorker(url: URL | string | undefined, onError: (event: ErrorEvent) => void = () => {}): WorkerHandle {
  const worker = startWebWorker(url);
  let markDead: (how: string) => void = () => {};
  const died = new Promise<string>((resolve) => (markDead = resolve));
  worker.addEventListener('error', (event) => {
    onError(event);
    markDead(`failed: ${event.message || 'uncaught error (or the script could not be loaded: check workerUrl and worker-src CSP)'}`);
  });
  worker.addEventListener('messageerror', () => markDead('failed: a message could not be deserialized'));
  return {
    endpoint: worker,
    died,
    async terminate() {
      worker.terminate();
      markDead('terminated');
    },
    setBusy() {},
  };
}

/** Said in errors: where the default worker is expected, and what to do when a bundle lost it. */
export const WEB_WORKER_LOCATION =
  "kernel-worker.js next to the library's module (bundlers emit it from the library's new Worker(new URL('./kernel-worker.js', import.meta.url)); " +
  "with esbuild, or when it 404s, copy node_modules/ivon-edge/dist/kernel-worker.js beside your bundle or pass its URL as workerUrl)";

export const webAdapter: WorkerAdapter = {
  name: 'web',
  defaultLocation: WEB_WORKER_LOCATION,
  start: (url) => startModuleWorker(url),
};
