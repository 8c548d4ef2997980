// The KernelRunner (wasm-calls.ts) of the worker pool. A call over a range big enough is split
// into 16-aligned shards (splitRange): the main thread runs one, each worker one, signalled
// through the shared control block with Atomics — no message per kernel. Calls too small to
// repay the wake-up (minElementsPerWorker, measured: see pool.ts) run on the main thread.
// Calls are queued in order; write/fill/copy issued while kernels are queued wait their turn.
// Once its own shard is done, the main thread takes over (protocol.js claimShard) every shard a
// worker has not started and runs it itself, so a worker that is not scheduled never makes a call
// wait; that worker gets no work until it has acknowledged the op it lost.
//
// Faults: kernels that change buffers in place first copy each chunk of their shard to an undo
// area and publish how far they got (protocol.js runKernelOp). If a worker dies, throws, or
// overruns the timeout, the pool waits for the other shards, restores every published chunk,
// replaces the worker, and rejects flush() with WorkerCrashedError / WorkerTimeoutError.
// Calls queued after the failure are dropped (they depended on it); the next flush() is clean.
//
// The model toolkit's GEMM (gemm(), pieces in pool-gemm.ts) is synchronous: split by output rows
// when every shard carries ≥ minGemmFlopsPerWorker, each worker with its own pack area, the
// calling thread blocked until all shards are done. A failed shard fails the call at once (an
// accumulating product first gets C back from an undo copy); the worker is replaced in the
// background and GEMMs run on the calling thread until it is.
//
// Adapting to the device (src/scheduler/contention.ts): every sharded call is timed on the main
// thread (its own shard, the wait for the workers after it; each worker reports its own shard
// time in its SHARD_US word) and inline calls are timed too. From those the policy derives the
// shard thresholds (unless the user fixed them) and, when sharded calls run slower than one thread
// would (another process has the cores), suspends sharding with an occasional probe.

import type { Range, SampleArgs } from '../backend.js';
import type { WorkerAdapter } from '../../workers/adapter.js';
import * as P from '../../workers/protocol.js';
import { WorkerCrashedError, WorkerTimeoutError } from './pool-errors.js';
import { blockUntilChange, callGemm, encodeGemm, GEMM_EXPORT, GEMM_ROW_ALIGN, gemmOutputSpan, gemmRowPiece, gemmShardCount, type GemmOperands } from './pool-gemm.js';
import { AheadDrawer, type AheadJob, type AheadRange, type AheadReport } from './pool-ahead.js';
import { IN_PLACE_ROLES, POOL_EXPORTS, poolExportNames } from './pool-kernels.js';
import { ContentionPolicy, gemmShape, MIN_TIMED_WORK, type ContentionReport, type ShardGate, type ShardKind } from '../scheduler/contention.js';
import { createSharedControl, PoolWorker, waitForChange, type SharedControl, type WorkerFault } from './pool-worker.js';
import { callKernel, splitRange, type KernelCall, type KernelRunner, type RoleBases } from './wasm-calls.js';
import type { WasmHeap } from './wasm-heap.js';
import type { KernelExports } from './wasm-module.js';

export interface PoolRunnerOptions {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: KernelExports;
  heap: WasmHeap;
  adapter: WorkerAdapter;
  /** undefined: the kernel-worker entry shipped with the library (the adapter knows where). */
  workerUrl: URL | string | undefined;
  workers: number;
  minElementsPerWorker: number;
  /** The main thread computes a shard too (default true). */
  mainThreadShare: boolean;
  /** A kernel whose workers have not all finished after this long fails with WorkerTimeoutError. */
  timeoutMs: number;
  /** Elements per undo chunk (in-place kernels). */
  undoChunk: number;
  /** A GEMM is split only when every shard gets at least this many flops (2·rows·n·k). */
  minGemmFlopsPerWorker: number;
  /**
   * Which thresholds the user gave: those are fixed (never derived, never suspended). The others
   * start at the values above and then follow the measured costs (scheduler/contention.ts).
   */
  fixedThresholds: Record<ShardKind, boolean>;
}

/** A sharding decision for one call: how many shards and whether it is a contention probe. */
interface ShardPlan {
  shards: number;
  gate: ShardGate;
}

/** One shard of a sharded call: who runs it, and its argument words. */
interface Shard {
  range: Range;
  worker: PoolWorker | undefined; // undefined: the main thread
  args: Float64Array;
  seq: number;
  progress: number;
  /** The worker had not started it when the main thread's own shard was done: the main thread ran it. */
  takenOver: boolean;
}

/** How long finishAhead() waits for the worker to leave its job (a few µs when it is running; about one chunk at most). */
const FINISH_GRACE_MS = 0.1;

type Outcome = { ok: true } | { ok: false; worker: PoolWorker; how: 'crashed' | 'timeout' | 'threw'; detail: string };

export class PoolRunner implements KernelRunner {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private failure: Error | undefined;
  private undoPtr = 0;
  private undoBytes = 0;
  private disposed = false;
  /** Comlink control calls in flight (configure): the workers are out of their serve loop. */
  private controlling = 0;
  /** Each worker slot's GEMM pack area (allocated at the first sharded GEMM). */
  private gemmPacks: number[] = [];
  /** GEMMs that ran split over the workers (diagnostics and tests). */
  shardedGemms = 0;
  /** When to shard, from measured costs (and the user's fixed thresholds). */
  private readonly policy: ContentionPolicy;
  /**
   * A timer held while work is queued. Node does not count a pending Atomics.waitAsync (nor
   * unref'd idle workers) as keeping the process alive, so a script whose only pending work is a
   * pool step would otherwise exit mid-step with status 0.
   */
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Noise drawn ahead on a worker while the main thread runs the model (pool-ahead.ts). */
  private readonly ahead: AheadDrawer;
  /** Workers that failed in an ahead job and are being replaced. */
  private readonly replacing = new Set<PoolWorker>();

  private constructor(
    private readonly o: PoolRunnerOptions,
    private readonly shared: SharedControl,
    private readonly workers: PoolWorker[],
    private readonly names: string[],
  ) {
    this.ahead = new AheadDrawer(o.exports, o.memory, o.heap, o.timeoutMs);
    this.policy = new ContentionPolicy({
      // Adaptation measures the main thread's own shard: without one, the thresholds stay as given.
      threads: o.workers + (o.mainThreadShare ? 1 : 0),
      defaultMinElementsPerShard: o.minElementsPerWorker,
      defaultMinFlopsPerShard: o.minGemmFlopsPerWorker,
      fixedMinElementsPerShard: o.fixedThresholds.elements || !o.mainThreadShare ? o.minElementsPerWorker : undefined,
      fixedMinFlopsPerShard: o.fixedThresholds.gemm || !o.mainThreadShare ? o.minGemmFlopsPerWorker : undefined,
    });
  }

  static async create(options: PoolRunnerOptions): Promise<PoolRunner> {
    const shared = createSharedControl(options.workers);
    const names = poolExportNames(options.module);
    const workers = await Promise.all(
      Array.from({ length: options.workers }, (_, slot) =>
        PoolWorker.start(options.adapter, options.workerUrl, slot, shared, options.module, options.memory, names),
      ),
    );
    return new PoolRunner(options, shared, workers, names);
  }

  /** The workers can run nnGemm shards (the module has the model kernels). */
  get shardsGemm(): boolean {
    return this.names.includes(GEMM_EXPORT);
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Nothing is queued: synchronous operations may run at once. */
  get idle(): boolean {
    return this.pending === 0 && this.failure === undefined;
  }

  /**
   * Shards a call of `count` elements (of `kernel`, whose measured cost sets its threshold) is
   * split into now (1: runs on the main thread alone, also while sharding is suspended).
   */
  shardsFor(count: number, kernel = ''): number {
    const shards = this.elementShards(count, kernel);
    return shards > 1 && this.policy.suspended('elements', kernel) && !this.policy.isFixed('elements') ? 1 : shards;
  }

  /** Shards a GEMM of op(A) m×k by op(B) k×n would use now (1: the calling thread alone). */
  gemmShardsFor(m: number, n: number, k: number): number {
    const shape = gemmShape(n, k);
    const shards = this.gemmShardsByThreshold(m, n, k, shape);
    return shards > 1 && this.policy.suspended('gemm', shape) && !this.policy.isFixed('gemm') ? 1 : shards;
  }

  /** The pool's live sharding decisions and the measurements behind them (explain()). */
  contentionReport(): ContentionReport {
    return this.policy.report(performance.now());
  }

  /**
   * nnGemm, synchronously: split by output rows over the calling thread and the workers when
   * worth it (results bit-identical to one call), else on the calling thread.
   */
  gemm(g: GemmOperands): void {
    const shape = gemmShape(g.n, g.k);
    const plan = this.plan('gemm', shape, 2 * g.m * g.n * g.k, this.gemmShardsByThreshold(g.m, g.n, g.k, shape));
    if (plan.shards >= 2) {
      this.gemmSharded(g, plan);
      return;
    }
    const t0 = performance.now();
    callGemm(this.o.exports, g);
    this.policy.recordInline('gemm', shape, 2 * g.m * g.n * g.k, performance.now() - t0);
  }

  run(call: KernelCall, bases: RoleBases, range: Range): void {
    if (range.count === 0) return;
    if (this.idle) {
      const plan = this.plan('elements', call.kernel, range.count, this.elementShards(range.count, call.kernel));
      if (plan.shards < 2) {
        this.runInline(call, bases, range);
        return;
      }
      void this.schedule(() => this.execute(call, bases, range, plan));
      return;
    }
    void this.schedule(() => this.execute(call, bases, range));
  }

  /**
   * A reduction (countNonFinite). Fails closed: a call that cannot run (a worker failed in it or
   * before it, or the pool was disposed) rejects; it never answers 0.
   */
  async sum(call: KernelCall, bases: RoleBases, range: Range): Promise<number> {
    // Idle and too small to shard: answer at once, without a trip through the queue.
    if (this.idle && this.shardsFor(range.count, call.kernel) < 2) return this.runInline(call, bases, range);
    await this.flush();
    return this.after(call.kernel, () => this.execute(call, bases, range));
  }

  /**
   * Runs `task` after everything queued now and resolves with its result. If it cannot run — an
   * earlier queued call failed, or the pool was disposed — or it fails, it rejects with that
   * failure (reported here, so the next flush() does not report it again).
   */
  async after<T>(what: string, task: () => T | Promise<T>): Promise<T> {
    let out: { value: T } | undefined;
    await this.schedule(async () => {
      out = { value: await task() };
      return 0;
    });
    if (out) return out.value;
    const failure = this.failure;
    this.failure = undefined;
    throw failure ?? new Error(`wasm pool: ${what} could not run: the pool was disposed`);
  }

  /** Runs `task` (a write, fill...) after everything queued; at once when idle. */
  enqueue(task: () => void): void {
    if (this.idle) task();
    else void this.schedule(async () => (task(), 0));
  }

  /** Runs `task` (freeing memory) after everything queued, even if a queued call fails; at once when idle. */
  enqueueCleanup(task: () => void): void {
    if (this.idle) {
      task();
      return;
    }
    this.begin();
    this.tail = this.tail.then(() => {
      try {
        task();
      } catch (error) {
        this.failure ??= error as Error;
      } finally {
        this.end();
      }
    });
  }

  async flush(): Promise<void> {
    await this.tail;
    const failure = this.failure;
    if (failure) {
      this.failure = undefined;
      throw failure;
    }
  }

  /**
   * Starts drawing z under `sample`'s counter into the 'epsilon' ranges on an idle worker while
   * the calling thread goes on (pool-ahead.ts); undefined when no worker is free for it now.
   */
  startAhead(ranges: readonly AheadRange[], sample: SampleArgs, target: number): AheadJob | undefined {
    this.ahead.blockStarts();
    this.replaceFailedAheadWorkers();
    if (!this.idle || this.controlling > 0 || this.disposed) return undefined;
    const free = this.availableWorkers();
    if (free.length === 0) return undefined;
    return this.ahead.start(free[free.length - 1], ranges, sample, target);
  }

  /** Completes an ahead job on the calling thread (whatever the worker has not drawn); the values are then in place. */
  finishAhead(job: AheadJob): void {
    this.ahead.finish(job);
    // The worker may still be leaving its last chunk (redrawn here): give it a moment, so the
    // step that follows can shard onto it.
    const until = performance.now() + FINISH_GRACE_MS;
    while (this.ahead.busy(job.worker) && !job.worker.dead && performance.now() < until) {
      /* spin */
    }
    this.replaceFailedAheadWorkers();
  }

  cancelAhead(job: AheadJob): void {
    this.ahead.cancel(job);
  }

  /** Waits until no ahead job writes into the arena block `target` any more (before it is freed). */
  quiesceAhead(target?: number): void {
    this.ahead.quiesce(target);
  }

  aheadReport(): AheadReport {
    return this.ahead.report();
  }

  /** Injects a fault into worker `index` (tests of the crash and hang paths). */
  async injectFault(index: number, fault: WorkerFault): Promise<void> {
    this.replaceFailedAheadWorkers();
    await this.flush();
    this.ahead.quiesce();
    this.controlling += 1;
    try {
      await this.workers[index].configure({ fault }, this.o.timeoutMs);
    } finally {
      this.controlling -= 1;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const keepAlive = setInterval(() => {}, 60_000); // shutdown waits on workers Node does not count
    try {
      await this.tail;
      this.ahead.quiesce();
      await Promise.all(this.workers.map((w) => w.shutdown(Math.min(this.o.timeoutMs, 2000))));
    } finally {
      clearInterval(keepAlive);
    }
    if (this.undoPtr) this.o.heap.release(this.undoPtr);
    this.undoPtr = 0;
    for (const pack of this.gemmPacks) this.o.heap.release(pack);
    this.gemmPacks = [];
  }

  /** Appends to the queue; a failed task records the failure and later tasks are skipped. */
  private schedule(task: () => Promise<number>): Promise<number | undefined> {
    this.begin();
    const result = this.tail.then(async () => {
      try {
        if (this.failure || this.disposed) return undefined;
        return await task();
      } catch (error) {
        this.failure = error as Error;
        return undefined;
      } finally {
        this.end();
      }
    });
    this.tail = result.then(() => undefined);
    return result;
  }

  private begin(): void {
    this.pending += 1;
    this.keepAlive ??= setInterval(() => {}, 60_000);
  }

  private end(): void {
    this.pending -= 1;
    if (this.pending === 0 && this.keepAlive !== undefined) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  /**
   * Whether the calling thread may take over the shards of this kind a worker has not started: not
   * with a fixed threshold (it asks for the workers, whatever it costs), nor when the calling thread
   * has no shard of its own (it would take over every shard before a worker woke).
   */
  private mayTakeOver(kind: ShardKind): boolean {
    return this.o.mainThreadShare && !this.policy.isFixed(kind);
  }

  /**
   * Once the calling thread's own shard is done: claims each shard whose worker has not started it
   * (protocol.js claimShard), marks it takenOver and runs it here with `run`, so a worker that is
   * not scheduled never makes the call wait. Returns the first error `run` threw (the rest are then
   * left to their workers), else undefined.
   */
  private takeOverUnstarted<S extends { worker: PoolWorker | undefined; seq: number; takenOver: boolean }>(kind: ShardKind, shards: readonly S[], run: (shard: S) => void): unknown {
    if (!this.mayTakeOver(kind)) return undefined;
    for (const shard of shards) {
      if (!shard.worker || !shard.worker.takeOver(shard.seq)) continue;
      shard.takenOver = true;
      try {
        run(shard);
      } catch (error) {
        return error;
      }
    }
    return undefined;
  }

  /**
   * Workers a kernel may be signalled to: alive, not drawing noise ahead, not owing the
   * acknowledgement of a taken-over shard. One that has owed it past workerTimeoutMs never woke: it
   * is replaced (the hang of a worker whose shards are taken over is never waited for, so it is
   * found here).
   */
  private availableWorkers(): PoolWorker[] {
    return this.workers.filter((w) => {
      if (w.dead || this.ahead.busy(w)) return false;
      if (w.acknowledged) return true;
      if (w.ackOverdue(this.o.timeoutMs) && !this.replacing.has(w)) {
        this.replacing.add(w);
        this.replaceLater([w]);
      }
      return false;
    });
  }

  /** Replaces workers that died or hung in an ahead job (their jobs were finished on the main thread). */
  private replaceFailedAheadWorkers(): void {
    const failed = [...new Set([...this.workers.filter((w) => w.dead), ...this.ahead.hungWorkers()])].filter((w) => !this.replacing.has(w) && this.workers.includes(w));
    if (failed.length === 0) return;
    for (const w of failed) this.replacing.add(w);
    this.replaceLater(failed);
  }

  /** Shards by the current element threshold of `kernel` alone (no contention gate). */
  private elementShards(count: number, kernel: string): number {
    const perShard = this.policy.minWorkPerShard('elements', kernel, performance.now());
    if (count < 2 * perShard) return 1; // most calls: decided before looking at the workers
    const threads = this.availableWorkers().length + (this.o.mainThreadShare ? 1 : 0);
    return Math.max(1, Math.min(threads, Math.floor(count / perShard)));
  }

  /** Shards of a GEMM by the current flops threshold alone (no contention gate); 1 when it cannot be split now. */
  private gemmShardsByThreshold(m: number, n: number, k: number, shape: string): number {
    if (!this.shardsGemm || !this.idle || this.controlling > 0) return 1;
    const perShard = this.policy.minWorkPerShard('gemm', shape, performance.now());
    if (2 * m * n * k < 2 * perShard) return 1; // most products: decided before looking at the workers
    const threads = this.availableWorkers().length + (this.o.mainThreadShare ? 1 : 0);
    return gemmShardCount(m, n, k, threads, perShard);
  }

  /** The decision for a call about to run: its threshold's shard count, through the contention gate. */
  private plan(kind: ShardKind, kernel: string, work: number, shards: number): ShardPlan {
    if (shards < 2) return { shards: 1, gate: 'main' };
    const gate = this.policy.gate(kind, kernel, work, performance.now());
    return gate === 'main' ? { shards: 1, gate } : { shards, gate };
  }

  /** A call on the main thread alone, timed for the policy's cost per element (if long enough to time). */
  private runInline(call: KernelCall, bases: RoleBases, range: Range): number {
    if (range.count < MIN_TIMED_WORK.elements) return callKernel(this.o.exports, bases, call, range.start, range.count);
    const t0 = performance.now();
    const result = callKernel(this.o.exports, bases, call, range.start, range.count);
    this.policy.recordInline('elements', call.kernel, range.count, performance.now() - t0);
    return result;
  }

  /** One GEMM over row shards; the calling thread runs the first unless mainThreadShare is off. */
  private gemmSharded(g: GemmOperands, plan: ShardPlan): void {
    const pieces = splitRange({ start: 0, count: g.m }, plan.shards, GEMM_ROW_ALIGN);
    const live = this.availableWorkers();
    const packs = this.ensureGemmPacks();
    const exportIndex = this.names.indexOf(GEMM_EXPORT);
    const span = g.accumulate ? gemmOutputSpan(g) : 0;
    const undo = span > 0 ? this.undoArea(span * 4) : 0;
    if (undo) this.o.exports.copy(undo, g.c, span); // C += …: C's old rows, restored if a shard fails
    const mainFirst = this.o.mainThreadShare;
    this.shardedGemms += 1;
    const shards = pieces.map((rows, k) => ({ rows, worker: mainFirst ? (k === 0 ? undefined : live[k - 1]) : live[k], seq: 0, takenOver: false }));
    const signalled = performance.now();
    for (const shard of shards) {
      if (!shard.worker) continue;
      encodeGemm(shard.worker.args, exportIndex, gemmRowPiece(g, shard.rows.start, shard.rows.count, packs[shard.worker.slot]));
      shard.seq = shard.worker.signal(P.OP_KERNEL);
    }
    let mainError: unknown;
    const mine = shards.find((s) => !s.worker);
    const mainStart = performance.now();
    if (mine) {
      try {
        callGemm(this.o.exports, gemmRowPiece(g, mine.rows.start, mine.rows.count, g.pack));
      } catch (error) {
        mainError = error;
      }
    }
    const mainEnd = performance.now();
    mainError ??= this.takeOverUnstarted('gemm', shards, (shard) => callGemm(this.o.exports, gemmRowPiece(g, shard.rows.start, shard.rows.count, g.pack)));
    const deadline = Date.now() + this.o.timeoutMs;
    const failures: { worker: PoolWorker; rows: Range; how: Outcome }[] = [];
    for (const shard of shards) {
      if (!shard.worker || shard.takenOver) continue;
      const how = this.blockForShard(shard.worker, shard.seq, deadline);
      if (!how.ok) failures.push({ worker: shard.worker, rows: shard.rows, how });
    }
    if (failures.length === 0 && mainError === undefined) {
      if (mine) {
        const flopsPerRow = 2 * g.n * g.k;
        this.recordSharded('gemm', gemmShape(g.n, g.k), plan.gate, flopsPerRow * g.m, flopsPerRow * mine.rows.count, { signalled, mainStart, mainEnd }, shards);
      }
      return;
    }
    if (undo) this.o.exports.copy(g.c, undo, span);
    if (failures.length > 0) this.replaceLater(failures.map((f) => f.worker));
    if (mainError !== undefined) throw mainError;
    const { worker, rows, how } = failures[0];
    const failed = how as Extract<Outcome, { ok: false }>;
    const where = `nnGemm on output rows [${rows.start}, ${rows.start + rows.count}) of ${g.m}×${g.n}`;
    const tail =
      `${g.accumulate ? "C's previous values were restored" : 'C is incomplete (this product overwrites it: run it again)'}; ` +
      'the pool is replacing the worker and runs GEMMs on the calling thread until then.';
    if (failed.how === 'timeout') {
      throw new WorkerTimeoutError(`kernel worker ${worker.slot} did not finish ${where} within ${this.o.timeoutMs} ms (workerTimeoutMs); ${tail}`, worker.slot, GEMM_EXPORT, this.o.timeoutMs);
    }
    throw new WorkerCrashedError(`kernel worker ${worker.slot} ${failed.how === 'threw' ? 'threw' : 'crashed'} during ${where}: ${failed.detail}; ${tail}`, worker.slot, GEMM_EXPORT);
  }

  /** Blocks until `worker` finished op `seq`, died, or the deadline passed. */
  private blockForShard(worker: PoolWorker, seq: number, deadline: number): Outcome {
    for (;;) {
      const done = Atomics.load(worker.ctl, P.DONE);
      if (done === seq) {
        return Atomics.load(worker.ctl, P.STATUS) === P.STATUS_OK ? { ok: true } : { ok: false, worker, how: 'threw', detail: 'the kernel threw inside the worker' };
      }
      if (worker.dead) return { ok: false, worker, how: 'crashed', detail: `the worker ${worker.deadBecause ?? 'exited'}` };
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, worker, how: 'timeout', detail: 'timed out' };
      blockUntilChange(worker.ctl, P.DONE, done, left);
    }
  }

  /** Ends and replaces `dead` after everything queued; the pool is not idle meanwhile. */
  private replaceLater(dead: PoolWorker[]): void {
    this.begin();
    this.tail = this.tail.then(async () => {
      try {
        await Promise.all(dead.map((w) => w.terminate()));
        await Promise.all(dead.map((w) => this.replace(w)));
      } catch (error) {
        this.failure ??= error as Error;
      } finally {
        this.end();
      }
    });
  }

  /** One pack area per worker slot, sized by nnGemmPackFloats(), allocated once. */
  private ensureGemmPacks(): number[] {
    if (this.gemmPacks.length === 0) {
      const bytes = this.o.exports.nnGemmPackFloats() * 4;
      this.gemmPacks = this.workers.map(() => this.o.heap.alloc(bytes));
    }
    return this.gemmPacks;
  }

  /** A completed sharded call's timings, handed to the policy. */
  private recordSharded(
    kind: ShardKind,
    kernel: string,
    gate: ShardGate,
    work: number,
    mainWork: number,
    at: { signalled: number; mainStart: number; mainEnd: number },
    shards: readonly { worker: PoolWorker | undefined; takenOver: boolean }[],
  ): void {
    const joined = performance.now();
    let workerUs = 0;
    for (const shard of shards) if (shard.worker && !shard.takenOver) workerUs = Math.max(workerUs, shard.worker.ctl[P.SHARD_US]);
    const takenOver = shards.some((s) => s.takenOver);
    this.policy.recordSharded(
      { kind, kernel, work, mainWork, mainMs: at.mainEnd - at.mainStart, wallMs: joined - at.signalled, workerMs: workerUs / 1000, takenOver },
      gate,
      joined,
    );
  }

  /**
   * Runs one call sharded over the main thread and the workers; returns the summed result.
   * `plan`: decided when the call was issued on an idle pool; otherwise decided here, as it runs.
   */
  private async execute(call: KernelCall, bases: RoleBases, range: Range, planned?: ShardPlan): Promise<number> {
    const plan = planned ?? this.plan('elements', call.kernel, range.count, this.elementShards(range.count, call.kernel));
    const free = this.availableWorkers(); // a worker may have taken an ahead job since the plan was made
    const pieces = splitRange(range, Math.min(plan.shards, free.length + (this.o.mainThreadShare ? 1 : 0)));
    if (pieces.length < 2) return this.runInline(call, bases, range);
    const inPlace = IN_PLACE_ROLES[call.kernel];
    const undo = inPlace.length > 0 ? this.undoArea(inPlace.length * range.count * 4) : 0;
    const mainFirst = this.o.mainThreadShare;
    const shards: Shard[] = pieces.map((piece, k) => {
      const worker = mainFirst ? (k === 0 ? undefined : free[k - 1]) : free[k];
      const args = worker ? worker.args : new Float64Array(P.SLOT_FLOATS);
      encodeOp(args, call, bases, piece, range, inPlace, undo, this.o.undoChunk);
      return { range: piece, worker, args, seq: 0, progress: 0, takenOver: false };
    });
    const signalled = performance.now();
    for (const shard of shards) {
      if (!shard.worker) continue;
      shard.worker.setBusy(true);
      shard.seq = shard.worker.signal(P.OP_KERNEL);
    }
    let total = 0;
    let mainError: unknown;
    const mine = shards.find((s) => !s.worker);
    const mainStart = performance.now();
    if (mine) {
      try {
        total += P.runKernelOp(this.o.exports, POOL_EXPORTS, mine.args, (done) => (mine.progress = done));
      } catch (error) {
        mainError = error;
      }
    }
    const mainEnd = performance.now();
    // The same arguments and the same undo chunks as the worker would have used.
    mainError ??= this.takeOverUnstarted('elements', shards, (shard) => {
      total += P.runKernelOp(this.o.exports, POOL_EXPORTS, shard.args, (done) => (shard.progress = done));
    });
    const waited = shards.filter((s) => s.worker && !s.takenOver);
    const deadline = Date.now() + this.o.timeoutMs;
    const outcomes = await Promise.all(waited.map((s) => this.awaitShard(s, deadline)));
    for (const shard of shards) shard.worker?.setBusy(false);
    const failed = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    if (failed.length === 0 && mainError === undefined) {
      for (const shard of waited) total += shard.worker!.ctl[P.RESULT];
      if (mine) this.recordSharded('elements', call.kernel, plan.gate, range.count, mine.range.count, { signalled, mainStart, mainEnd }, shards);
      return total;
    }
    // Stop the broken workers before touching their shards: after terminate() they write nothing.
    await Promise.all(failed.map((f) => f.worker.terminate()));
    for (const shard of waited) shard.progress = Atomics.load(shard.worker!.ctl, P.PROGRESS);
    if (inPlace.length > 0) this.restore(shards, bases, range, inPlace, undo);
    await Promise.all(failed.map((f) => this.replace(f.worker)));
    if (mainError !== undefined) throw mainError;
    const first = failed[0];
    const restored = inPlace.length > 0 ? `the ${inPlace.join('/')} values it had changed were restored` : 'it changes nothing in place';
    const tail = `The pool replaced the worker; ${restored}, so the optimizer state is as before this call and the step can be run again.`;
    if (first.how === 'timeout') {
      throw new WorkerTimeoutError(
        `kernel worker ${first.worker.slot} did not finish ${call.kernel} on elements [${shardOf(shards, first.worker)}] within ${this.o.timeoutMs} ms (workerTimeoutMs). ${tail}`,
        first.worker.slot, call.kernel, this.o.timeoutMs,
      );
    }
    throw new WorkerCrashedError(
      `kernel worker ${first.worker.slot} ${first.how === 'threw' ? 'threw' : 'crashed'} during ${call.kernel} on elements [${shardOf(shards, first.worker)}]: ${first.detail}. ${tail}`,
      first.worker.slot, call.kernel,
    );
  }

  private async awaitShard(shard: Shard, deadline: number): Promise<Outcome> {
    const worker = shard.worker!;
    for (;;) {
      const done = Atomics.load(worker.ctl, P.DONE);
      if (done === shard.seq) {
        if (Atomics.load(worker.ctl, P.STATUS) === P.STATUS_OK) return { ok: true };
        // serve() rejects a moment after the status is published; give comlink that moment.
        for (let i = 0; i < 50 && !worker.serveError; i++) await new Promise((r) => setTimeout(r, 2));
        return { ok: false, worker, how: 'threw', detail: worker.serveError?.message ?? 'the kernel threw' };
      }
      if (worker.dead) {
        // The slot's DIED mark comes a moment before the exit event that says how it ended.
        for (let i = 0; i < 50 && !worker.deadBecause; i++) await new Promise((r) => setTimeout(r, 2));
        return { ok: false, worker, how: 'crashed', detail: `the worker ${worker.deadBecause ?? 'exited'}` };
      }
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, worker, how: 'timeout', detail: 'timed out' };
      await waitForChange(worker.ctl, P.DONE, done, left);
    }
  }

  /** Puts back the old values of every chunk any shard had copied aside. */
  private restore(shards: Shard[], bases: RoleBases, range: Range, inPlace: readonly string[], undo: number): void {
    const copy = this.o.exports.copy;
    for (const shard of shards) {
      if (shard.progress <= 0) continue;
      inPlace.forEach((role, b) => {
        const live = bases[role as keyof RoleBases]! + 4 * shard.range.start;
        copy(live, undo + 4 * (b * range.count + shard.range.start - range.start), shard.progress);
      });
    }
  }

  private async replace(dead: PoolWorker): Promise<void> {
    const fresh = await PoolWorker.start(this.o.adapter, this.o.workerUrl, dead.slot, this.shared, this.o.module, this.o.memory, this.names);
    this.workers[this.workers.indexOf(dead)] = fresh;
    this.replacing.delete(dead);
  }

  /** The undo area, grown to at least `bytes` (its contents never outlive one call). */
  private undoArea(bytes: number): number {
    if (bytes > this.undoBytes) {
      if (this.undoPtr) this.o.heap.release(this.undoPtr);
      this.undoPtr = 0;
      this.undoPtr = this.o.heap.alloc(bytes);
      this.undoBytes = bytes;
    }
    return this.undoPtr;
  }
}

function shardOf(shards: Shard[], worker: PoolWorker): string {
  const r = shards.find((s) => s.worker === worker)!.range;
  return `${r.start}, ${r.start + r.count})`;
}

/** Writes a call over `piece` into argument words (the layout of workers/protocol.js). */
function encodeOp(
  a: Float64Array,
  call: KernelCall,
  bases: RoleBases,
  piece: Range,
  whole: Range,
  inPlace: readonly string[],
  undo: number,
  chunk: number,
): void {
  let mask = 0;
  let countAt = -1;
  let firstAt = -1;
  call.args.forEach((arg, i) => {
    let value: number;
    if (arg === 'count') {
      value = piece.count;
      countAt = i;
    } else if (arg === 'first') {
      value = piece.start;
      firstAt = i;
    } else if (typeof arg === 'number') value = arg;
    else {
      const base = bases[arg.role];
      if (base === undefined) throw new Error(`wasm pool: ${call.kernel} needs a '${arg.role}' buffer the arena does not have`);
      value = base + 4 * piece.start;
      mask |= 1 << i;
    }
    a[P.A_ARGS + i] = value;
  });
  a[P.A_EXPORT] = POOL_EXPORTS.indexOf(call.kernel);
  a[P.A_ARGC] = call.args.length;
  a[P.A_POINTER_MASK] = mask;
  a[P.A_COUNT_AT] = countAt;
  a[P.A_FIRST_AT] = firstAt;
  a[P.A_BACKUPS] = inPlace.length;
  a[P.A_CHUNK] = chunk;
  inPlace.forEach((role, b) => {
    a[P.A_BACKUP_PAIRS + 2 * b] = bases[role as keyof RoleBases]! + 4 * piece.start;
    a[P.A_BACKUP_PAIRS + 2 * b + 1] = undo + 4 * (b * whole.count + piece.start - whole.start);
  });
}
