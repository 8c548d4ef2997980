// Noise drawn ahead, off the critical path (issue 16). IVON's next ε depends only on its counter
// (seed, step, sample, element), so a worker can draw it into the arena's 'epsilon' role while
// the main thread runs the model's forward and backward; the step then only reads it. A job is a
// table in the shared memory (workers/protocol.js, T_*) whose chunks are claimed with Atomics.add:
// when the step needs the values, finish() claims what the worker has not reached and redraws any
// chunk not yet marked written — the same bits, so a slow, descheduled, crashed or hung worker
// costs time, never correctness, and the main thread never waits for it.
//
// One job runs at a time. A worker with a job is reserved (the pool shards nothing onto it) until
// it reports the job done. A table is freed only once the job was finished on the main thread
// and its worker is done with it (or dead).

import type { Range, SampleArgs } from '../backend.js';
import * as P from '../../workers/protocol.js';
import { quantile } from '../metrics/quantile.js';
import type { PoolWorker } from './pool-worker.js';
import type { WasmHeap } from './wasm-heap.js';
import type { KernelExports } from './wasm-module.js';

/** Elements per claimed chunk: ~30 µs of normals, so a late worker delays nothing by much. */
export const AHEAD_CHUNK_ELEMENTS = 16_384;

/** The recent jobs the back-off looks at, and the worker share below which ahead drawing pauses. */
export const HISTORY = 8;
export const MIN_WORKER_SHARE = 0.25;
/**
 * The share of its drawing time a job's worker must add to the process's CPU time beyond the
 * calling thread's (process clocks). Per job of the bench MLP on the 2-core VM it is near 1 idle
 * (V8's helper threads can add to it) and near 0 with a busy process on the other core — and, on
 * the idle machine too, in phases of tens of jobs where the worker is woken onto the calling
 * thread's core and takes its time from it (explain().noiseAhead's reason gives the figure when it
 * pauses). OVERLAP_JOBS such jobs in a row pause drawing: each costs the
 * calling thread about a millisecond there, so waiting for a whole HISTORY of them cost more than
 * the draws saved.
 */
export const MIN_OVERLAP = 0.6;
export const OVERLAP_JOBS = 3;
/**
 * Blocks skipped after a back-off before probing again: FIRST_BACKOFF_JOBS, doubled after each
 * probe that fails again, up to MAX_BACKOFF_JOBS; a probe that passes resets it. A passing phase of
 * contention costs few blocks of drawing ahead, a lasting one few probes.
 */
export const FIRST_BACKOFF_JOBS = 16;
export const MAX_BACKOFF_JOBS = 512;
/**
 * Taking turns costs the model nothing when the calling thread merely waits out the draw it then
 * skips in the step (seen on the idle 2-core VM), and a millisecond or more per block when another
 * process holds the rest of the cores (the scheduler hands the turn back late). So the policy also
 * times each train block (from its start to the next block's) with and without a draw. Against
 * the median of the last BASELINE_BLOCKS undrawn blocks (at least MIN_BASELINE of them):
 * - a drawn block more than SLOWER_BY slower, whose job also took turns, pauses at once (a probe
 *   under a busy process then costs one block, not OVERLAP_JOBS);
 * - when a pause for taking turns starts, the drawn blocks' median decides the next pause: over
 *   1 + SLOWER_BY slower, twice as long; under 1 − SLOWER_BY, the first again; else the same.
 */
export const SLOWER_BY = 0.1;
export const BASELINE_BLOCKS = 8;
export const MIN_BASELINE = 4;

export interface AheadRange {
  /** Byte offset of the 'epsilon' role at the range's first element. */
  readonly pointer: number;
  readonly range: Range;
}

/** What explain() reports about the noise drawn ahead. */
export interface AheadReport {
  /** Jobs started, and chunks drawn by the worker vs by the main thread (taken over or redone). */
  jobs: number;
  chunksByWorker: number;
  chunksByMain: number;
  /** 'drawing' or 'paused' (the worker drew too little of recent jobs: it is not running in parallel). */
  state: 'drawing' | 'paused';
  reason: string;
}

/**
 * The process's CPU time and the calling thread's active time, both in ms, where they are known
 * (Node: process.cpuUsage, every thread; performance.eventLoopUtilization, the time the event
 * loop was not idle). Browsers have neither: there only the worker's share judges (AheadPolicy).
 */
export interface ProcessClocks {
  cpuMs(): number;
  /** The calling thread's time not spent idle; undefined: assume it was busy throughout. */
  activeMs?: () => number;
}

export function processClocks(): ProcessClocks | undefined {
  const g = globalThis as {
    process?: { cpuUsage?: () => { user: number; system: number } };
    performance?: { eventLoopUtilization?: () => { active: number } };
  };
  const cpuUsage = g.process?.cpuUsage;
  if (typeof cpuUsage !== 'function') return undefined;
  const elu = g.performance?.eventLoopUtilization;
  return {
    cpuMs: () => {
      const { user, system } = cpuUsage();
      return (user + system) / 1000;
    },
    activeMs: typeof elu === 'function' ? () => elu.call(g.performance).active : undefined,
  };
}

/**
 * A job's window, from just before its worker was signalled until the next job starts. It closes
 * then, not when the worker is first seen done: a worker that has just published DONE is still
 * running, and the kernel adds its CPU time to the process's only once it sleeps — on the 2-core
 * VM, windows closed at DONE read ≈ 0 in long phases of an idle machine in which drawing ahead
 * still made epochs faster.
 */
export interface AheadWindow {
  /** Process CPU time beyond the calling thread's active time over the window (ms). */
  extraCpuMs: number;
  /** The worker's own time on the job (ms). */
  workerMs: number;
}

export class AheadJob {
  /** Set once its owner finished or cancelled it: the table is freed when the worker is done too. */
  settled = false;
  /** The worker's own time on the job (ms), read when it is first seen done with it (a later op overwrites it). */
  private workerMs: number | undefined;
  constructor(
    readonly worker: PoolWorker,
    readonly seq: number,
    /** Heap block of the table, and its word index. */
    readonly block: number,
    readonly table: number,
    readonly chunks: number,
    readonly startedAt: number,
    /** The arena block the job writes into (destroying it stops the job first). */
    readonly target: number,
    private readonly clocks: ProcessClocks | undefined,
    /** The clocks read just before the worker was signalled (clockStart). */
    private readonly start: { cpu: number; active: number } | undefined,
  ) {}

  /** Reads the worker's own time once, when the worker is first seen done with this job. */
  observeDone(): void {
    if (this.workerMs === undefined && Atomics.load(this.worker.ctl, P.DONE) === this.seq) this.workerMs = Atomics.load(this.worker.ctl, P.SHARD_US) / 1000;
  }

  /** The window up to now; undefined without process clocks or before the worker's time was read. */
  closeWindow(): AheadWindow | undefined {
    if (!this.start || this.workerMs === undefined) return undefined;
    const clocks = this.clocks!;
    return { extraCpuMs: clocks.cpuMs() - this.start.cpu - (activeNow(clocks) - this.start.active), workerMs: this.workerMs };
  }
}

/**
 * The pause after `pause`, given how much longer blocks with a draw took than blocks without
 * (undefined: not known, or not a pause for taking turns): doubled unless the draw did not slow
 * the blocks; the first again if it made them faster (SLOWER_BY says why).
 */
function nextPause(pause: number, slowdown: number | undefined): number {
  if (slowdown === undefined || slowdown > 1 + SLOWER_BY) return Math.min(2 * pause, MAX_BACKOFF_JOBS);
  return slowdown < 1 - SLOWER_BY ? FIRST_BACKOFF_JOBS : pause;
}

/** The project's median (metrics/quantile.ts) of unsorted `values`. */
function median(values: readonly number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/** The calling thread's active time, or the wall clock where it is unknown (assumed busy). */
const activeNow = (clocks: ProcessClocks): number => clocks.activeMs?.() ?? performance.now();

/**
 * A job's window opens before its worker is signalled: a worker woken onto the calling thread's
 * core runs at once and preempts it, so clocks read after the signal would miss that whole draw
 * (observed on the 2-core VM: windows far shorter than the draw they contained, which read as "no
 * CPU time gained" for the wrong reason).
 */
const clockStart = (clocks: ProcessClocks | undefined) => clocks && { cpu: clocks.cpuMs(), active: activeNow(clocks) };

export class AheadDrawer {
  /** Jobs whose table is allocated: not yet settled by their owner, or their worker not done. */
  private jobs: AheadJob[] = [];
  private readonly policy = new AheadPolicy();
  /** The last finished job, judged by the policy when the next one starts (AheadWindow says why then). */
  private unjudged: { job: AheadJob; byWorker: number; byMain: number } | undefined;

  constructor(
    private readonly exports: KernelExports,
    private readonly memory: WebAssembly.Memory,
    private readonly heap: WasmHeap,
    private readonly timeoutMs: number,
    private readonly clocks: ProcessClocks | undefined = processClocks(),
  ) {}

  /** A train block of the optimizer drawing ahead starts now, whether or not a job can start for it. */
  blockStarts(): void {
    this.policy.blockStarts(performance.now());
  }

  /** Whether `worker` is still running a job (then nothing else may be signalled to it). */
  busy(worker: PoolWorker): boolean {
    this.collect();
    return this.jobs.some((job) => job.worker === worker && !this.workerDone(job));
  }

  /**
   * Starts drawing z under `sample`'s counter into `ranges` on `worker` and returns at once, or
   * returns undefined when ahead drawing is paused or a worker is still busy with a job.
   */
  start(worker: PoolWorker, ranges: readonly AheadRange[], sample: SampleArgs, target: number): AheadJob | undefined {
    this.collect();
    this.judge();
    if (this.jobs.some((job) => !this.workerDone(job))) return undefined;
    const chunksOf = (r: AheadRange) => Math.ceil(r.range.count / AHEAD_CHUNK_ELEMENTS);
    const chunks = ranges.reduce((sum, r) => sum + chunksOf(r), 0);
    if (chunks === 0 || !this.policy.admit()) return undefined;
    const words = P.T_RANGES + P.T_RANGE_WORDS * ranges.length + chunks;
    const block = this.heap.alloc(words * 4);
    const table = block >>> 2;
    const w = this.words();
    w.fill(0, table, table + words);
    w[table + P.T_CHUNKS] = chunks;
    w[table + P.T_CHUNK_ELEMENTS] = AHEAD_CHUNK_ELEMENTS;
    w[table + P.T_GROUPS] = ranges.length;
    [sample.sample, sample.step, sample.stream, sample.seedLo, sample.seedHi].forEach((v, i) => (w[table + P.T_COUNTER + i] = v | 0));
    let firstChunk = 0;
    ranges.forEach((r, g) => {
      const at = table + P.T_RANGES + P.T_RANGE_WORDS * g;
      w[at] = r.pointer | 0;
      w[at + 1] = r.range.start | 0;
      w[at + 2] = r.range.count;
      w[at + 3] = firstChunk;
      firstChunk += chunksOf(r);
    });
    worker.args[P.A_ARGS] = table;
    const start = clockStart(this.clocks);
    const seq = worker.signal(P.OP_DRAW_AHEAD);
    const job = new AheadJob(worker, seq, block, table, chunks, Date.now(), target, this.clocks, start);
    this.jobs.push(job);
    return job;
  }

  /**
   * Completes `job` on the calling thread: claims the chunks the worker has not reached and
   * redraws every chunk not yet marked written. Afterwards the values are all in place.
   */
  finish(job: AheadJob): void {
    if (job.settled) throw new Error('pool: an ahead job was finished twice or after it was cancelled');
    const w = this.words();
    let byMain = P.drawAheadChunks(this.exports.fillNormal, w, job.table);
    for (let k = 0; k < job.chunks; k++) {
      if (Atomics.load(w, P.aheadFlag(w, job.table, k)) === 0) {
        P.drawAheadChunk(this.exports.fillNormal, w, job.table, k);
        byMain += 1;
      }
    }
    job.settled = true;
    this.judge(); // normally done at this job's start; a job left unjudged before a pause is judged here
    this.unjudged = { job, byWorker: Math.max(0, job.chunks - byMain), byMain };
    this.collect();
  }

  /** Hands the last finished job to the policy once its worker is done with it (or dead). */
  private judge(): void {
    const u = this.unjudged;
    if (!u || !this.workerDone(u.job)) return;
    u.job.observeDone();
    this.unjudged = undefined;
    this.policy.record(u.byWorker, u.byMain, u.job.worker.dead ? undefined : u.job.closeWindow());
  }

  /** The owner will not use the values: no further chunks are handed out, the table is freed once the worker is done. */
  cancel(job: AheadJob): void {
    if (job.settled) return;
    this.stopClaims(job);
    job.settled = true;
    this.collect();
  }

  /**
   * Stops every worker still in a job that writes into `target` (every job when undefined) and
   * waits until it is done — spinning: at most the one chunk it holds, or the timeout, after which
   * the worker is terminated — so that memory can be freed or the worker given other work.
   */
  quiesce(target?: number): void {
    for (const job of this.jobs) {
      if ((target !== undefined && job.target !== target) || this.workerDone(job)) continue;
      this.stopClaims(job);
      const deadline = Date.now() + this.timeoutMs;
      while (!this.workerDone(job) && Date.now() < deadline) {
        /* spin: the worker finishes the chunk it holds */
      }
      if (!this.workerDone(job)) void job.worker.terminate(); // hung: it must not write any more
    }
    this.collect();
  }

  /** Workers still in a job after the timeout (hung): the pool replaces them (dead ones it finds itself). */
  hungWorkers(): PoolWorker[] {
    const now = Date.now();
    return this.jobs.filter((job) => !this.workerDone(job) && now - job.startedAt > this.timeoutMs).map((job) => job.worker);
  }

  report(): AheadReport {
    this.judge();
    return this.policy.report();
  }

  /** Frees every table whose job is settled and whose worker is done (or dead). */
  private collect(): void {
    if (this.jobs.length === 0) return; // asked on every pool call: nothing to allocate when idle
    for (const job of this.jobs) {
      job.observeDone();
      // A worker whose job threw has left its serve loop: it is ended here and the pool replaces it.
      const threw = Atomics.load(job.worker.ctl, P.DONE) === job.seq && Atomics.load(job.worker.ctl, P.STATUS) === P.STATUS_ERROR;
      if (threw && !job.worker.dead) void job.worker.terminate();
    }
    this.jobs = this.jobs.filter((job) => {
      if (!job.settled || !this.workerDone(job)) return true;
      this.heap.release(job.block);
      return false;
    });
  }

  /** The worker finished the job (ops finish in order: any later op done counts) or died. */
  private workerDone(job: AheadJob): boolean {
    return ((Atomics.load(job.worker.ctl, P.DONE) - job.seq) | 0) >= 0 || job.worker.dead;
  }

  private stopClaims(job: AheadJob): void {
    Atomics.store(this.words(), job.table + P.T_CLAIM, job.chunks);
  }

  private words(): Int32Array {
    return new Int32Array(this.memory.buffer);
  }
}

/**
 * Whether drawing ahead pays here, from what it achieved: the share of each job's chunks the worker
 * drew before the step needed them. A worker that does not run while the block does (another
 * process holds the core, or the block is too short to hide the draw) leaves the work to the
 * calling thread, which then also pays for writing z out and reading it back; so after HISTORY jobs
 * under MIN_WORKER_SHARE, or OVERLAP_JOBS in a row under MIN_OVERLAP (process clocks), it pauses
 * for a number of blocks that doubles while probes keep failing, then tries again.
 */
export class AheadPolicy {
  private jobs = 0;
  private chunksByWorker = 0;
  private chunksByMain = 0;
  private recent: Array<{ share: number; window: AheadWindow | undefined }> = [];
  private pausedFor = 0;
  private nextPause = FIRST_BACKOFF_JOBS;
  private pauseReason = '';
  /** Time from one train block's start to the next (ms), for blocks with and without a draw. */
  private lastBlockAt: number | undefined;
  private lastBlockDrew = false;
  private drawnBlocks: number[] = [];
  private undrawnBlocks: number[] = [];

  /** A train block starts at `now` (ms): the previous block's time, from its start to this one, is kept. */
  blockStarts(now: number): void {
    if (this.lastBlockAt !== undefined) {
      const kept = this.lastBlockDrew ? this.drawnBlocks : this.undrawnBlocks;
      kept.push(now - this.lastBlockAt);
      if (kept.length > BASELINE_BLOCKS) kept.shift();
    }
    this.lastBlockAt = now;
    this.lastBlockDrew = false;
  }

  /** Whether to start a job for this block (a paused policy counts the block toward its pause). */
  admit(): boolean {
    if (this.pausedFor > 0) {
      this.pausedFor -= 1;
      return false;
    }
    this.jobs += 1;
    this.lastBlockDrew = true;
    return true;
  }

  /** The median time of the last `count` drawn blocks over that of the undrawn ones (undefined: too few of either). */
  private drawnOverUndrawn(count: number): number | undefined {
    if (this.drawnBlocks.length < count || this.undrawnBlocks.length < MIN_BASELINE) return undefined;
    return median(this.drawnBlocks.slice(-count)) / median(this.undrawnBlocks);
  }

  /**
   * A finished job: chunks the worker drew, chunks the calling thread took over or redrew, and,
   * where process clocks exist, the job's window (AheadWindow).
   */
  record(byWorker: number, byMain: number, window?: AheadWindow): void {
    this.chunksByWorker += byWorker;
    this.chunksByMain += byMain;
    this.recent.push({ share: byWorker / Math.max(1, byWorker + byMain), window });
    if (this.recent.length > HISTORY) this.recent.shift();
    // The process's CPU time beyond the calling thread's active time, against the worker's own
    // time: ≈ 1 when the worker ran beside the calling thread, ≈ 0 when the two took turns on one
    // core's worth of time (another process holds the rest): the draw then slowed the model.
    const overlapOf = (w: AheadWindow | undefined) => (w !== undefined && w.workerMs > 0 ? w.extraCpuMs / w.workerMs : undefined);
    const lastOverlaps = this.recent.slice(-OVERLAP_JOBS).map((r) => overlapOf(r.window));
    const newest = lastOverlaps[lastOverlaps.length - 1];
    // One job that took turns and made its block slower is enough once blocks without a draw are known…
    const slowAtOnce = newest !== undefined && newest < MIN_OVERLAP && (this.drawnOverUndrawn(1) ?? 0) > 1 + SLOWER_BY;
    // …else OVERLAP_JOBS in a row that took turns.
    const inARow = lastOverlaps.length === OVERLAP_JOBS && lastOverlaps.every((o) => o !== undefined && o < MIN_OVERLAP);
    const judged = slowAtOnce ? 1 : inARow ? OVERLAP_JOBS : 0;
    if (judged === 0 && this.recent.length < HISTORY) return;
    const share = this.recent.reduce((a, r) => a + r.share, 0) / this.recent.length;
    if (judged === 0 && share >= MIN_WORKER_SHARE) {
      this.nextPause = FIRST_BACKOFF_JOBS;
      return;
    }
    const slowdown = judged > 0 ? this.drawnOverUndrawn(judged) : undefined;
    const pause = this.nextPause;
    this.pausedFor = pause;
    this.nextPause = nextPause(pause, slowdown);
    const gained = Math.max(...lastOverlaps.slice(-Math.max(1, judged)).map((o) => o ?? 0));
    this.pauseReason =
      judged === 0
        ? `paused for ${pause} blocks: over the last ${HISTORY} jobs the worker drew ${(100 * share).toFixed(0)}% of the noise before the step needed it ` +
          `(< ${100 * MIN_WORKER_SHARE}%), so the cores are not running in parallel (another process, or a block too short to hide the draw); the step draws it meanwhile`
        : `paused for ${pause} blocks: in ${judged === 1 ? 'the last job' : `each of the last ${judged} jobs`} the process gained at most ${(100 * gained).toFixed(0)}% of the worker's drawing time in CPU time ` +
          `beyond the calling thread's (< ${100 * MIN_OVERLAP}%), so the draw took turns with the model on one core's worth of time` +
          (slowdown === undefined ? '' : `; blocks with a draw took ${slowdown.toFixed(2)}× the time of blocks without`) +
          '; the step draws it meanwhile';
    this.recent = [];
  }

  report(): AheadReport {
    const state = this.pausedFor > 0 ? 'paused' : 'drawing';
    const reason =
      state === 'paused'
        ? this.pauseReason
        : this.jobs === 0
          ? 'no job yet: an IVON optimizer with stored noise starts one per train block'
          : `the worker drew ${this.chunksByWorker} of ${this.chunksByWorker + this.chunksByMain} chunks off the critical path`;
    return { jobs: this.jobs, chunksByWorker: this.chunksByWorker, chunksByMain: this.chunksByMain, state, reason };
  }
}
