// Browsers: module Web Workers. An uncaught error in the worker is an 'error' event; a worker that
// closes itself sends nothing, which the pool's timeout catches. terminate() is immediate.

import type { WorkerAdapter, WorkerHandle } from './adapter.js';

export function startModuleWorker(url: URL | string, onError: (event: ErrorEvent) => void = () => {}): WorkerHandle {
  const worker = new Worker(url, { type: 'module', name: 'ivon-edge kernel worker' });
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

export const webAdapter: WorkerAdapter = {
  name: 'web',
  defaultUrl: () => new URL('./kernel-worker.js', import.meta.url),
  start: (url) => startModuleWorker(url),
};
