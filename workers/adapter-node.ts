// Node: worker_threads. A worker's death (process.exit inside it, an uncaught error, terminate())
// is its 'exit' event; terminate() resolves once the thread has stopped. worker_threads is
// imported through a variable specifier so browser bundles that inline this file never load it.

import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { WorkerAdapter, WorkerHandle } from './adapter.js';

type WorkerThreads = typeof import('node:worker_threads');

export async function createNodeAdapter(): Promise<WorkerAdapter> {
  const specifier = 'node:worker_threads';
  const { Worker } = (await import(/* @vite-ignore */ specifier)) as WorkerThreads;
  return {
    name: 'node',
    defaultLocation: "kernel-worker-node.js next to the library's module",
    start(url: URL | string | undefined): WorkerHandle {
      // execArgv: [] keeps the parent's loaders (tsx, vitest) out: the entry is plain JS.
      const worker = new Worker(url ?? new URL('./kernel-worker-node.js', import.meta.url), { execArgv: [] });
      let lastError = '';
      worker.on('error', (error) => (lastError = error.message));
      const died = new Promise<string>((resolve) => worker.once('exit', (code) => resolve(`exited with code ${code}${lastError ? `: ${lastError}` : ''}`)));
      return {
        endpoint: nodeEndpoint(worker),
        died,
        async terminate() {
          await worker.terminate();
        },
        setBusy(busy: boolean) {
          if (busy) worker.ref();
          else worker.unref();
        },
      };
    },
  };
}
