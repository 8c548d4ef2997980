// Deno: module Web Workers, like browsers, except that an uncaught error in a worker also ends
// the main process unless its 'error' event is cancelled (preventDefault) — the pool reports it.

import type { WorkerAdapter } from './adapter.js';
import { startModuleWorker, WEB_WORKER_LOCATION } from './adapter-web.js';

export const denoAdapter: WorkerAdapter = {
  name: 'deno',
  defaultLocation: WEB_WORKER_LOCATION,
  start: (url) => startModuleWorker(url, (event) => event.preventDefault()),
};
