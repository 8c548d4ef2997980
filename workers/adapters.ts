// Picks the worker adapter for this environment (the only environment switch of the pool).
// Node's adapter comes through the platform (src/platform/), so browser bundles never see it.

import { createNodeAdapter } from '../src/platform/node.js';
import type { WorkerAdapter } from './adapter.js';
import { detectEnvironment } from './environment.js';

export async function workerAdapter(): Promise<WorkerAdapter> {
  switch (detectEnvironment()) {
    case 'node':
      return createNodeAdapter();
    case 'deno':
      return (await import('./adapter-deno.js')).denoAdapter;
    default:
      return (await import('./adapter-web.js')).webAdapter;
  }
}
