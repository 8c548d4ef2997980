// Picks the worker adapter for this environment (the only environment switch of the pool).
// Loaded lazily so browser bundles never reach node:worker_threads.

import type { WorkerAdapter } from './adapter.js';
import { detectEnvironment } from './environment.js';

export async function workerAdapter(): Promise<WorkerAdapter> {
  switch (detectEnvironment()) {
    case 'node':
      return (await import('./adapter-node.js')).createNodeAdapter();
    case 'deno':
      return (await import('./adapter-deno.js')).denoAdapter;
    default:
      return (await import('./adapter-web.js')).webAdapter;
  }
}
