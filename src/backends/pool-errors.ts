// Errors of the worker pool, by kind, so callers can tell a dead worker from a stuck one. Either
// way the step that hit it failed as a whole: every shard it changed was restored from the undo
// area, the pool replaced the worker, and the same step can simply be run again.

export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
  constructor(
    message: string,
    readonly workerIndex: number,
    readonly kernel: string,
  ) {
    super(message);
  }
}

export class WorkerTimeoutError extends Error {
  override name = 'WorkerTimeoutError';
  constructor(
    message: string,
    readonly workerIndex: number,
    readonly kernel: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/**
 * createRuntime was asked for a number of workers and the pool could not start them (the worker
 * script did not load: a bundle that lost it, a wrong workerUrl, a worker-src CSP). With workers:
 * 'auto' the runtime runs on one thread instead and says why in explain().warnings.
 */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}
