// What the pool needs from an environment's workers, and nothing more: start one from a URL, talk
// to it through a comlink endpoint, learn when it died, and end it. One small adapter per
// environment implements this (Node worker_threads, Web Workers, Deno).

import type { Endpoint } from 'comlink';

export interface WorkerHandle {
  readonly endpoint: Endpoint;
  /** Settles (never rejects) when the worker is gone, with a description of how it ended. */
  readonly died: Promise<string>;
  /** Ends the worker; resolves once it can no longer touch shared memory. */
  terminate(): Promise<void>;
  /** Node: an idle worker must not keep the process alive (unref); others: nothing to do. */
  setBusy(busy: boolean): void;
}

export interface WorkerAdapter {
  readonly name: 'node' | 'web' | 'deno';
  /** Where the default kernel-worker entry is, in words (for error messages). */
  readonly defaultLocation: string;
  /** Starts a kernel worker from `url`, or from the entry shipped with the library when undefined. */
  start(url: URL | string | undefined): WorkerHandle;
}
