// The 'wasm' backend sharded over worker threads: the same AssemblyScript kernels, the same arenas
// and views as the single-thread wasm backend (it IS a WasmBackend), but on ONE shared
// WebAssembly.Memory that every worker instantiates the same compiled module against, and with a
// PoolRunner that splits each large kernel call into 16-aligned shards. Results are bit-identical
// to one thread for any number of workers: kernels are element-wise and the RNG is keyed by the
// global element index (docs/KERNELS.md §1).
//
// Calls smaller than minElementsPerWorker per shard run on the calling thread. Unless the user gives
// the thresholds, they start at the defaults (defaults.ts says where those come from) and then
// follow the costs measured here, and sharding is suspended while another process keeps the cores
// busy (src/scheduler/contention.ts); contentionReport() says what the pool does now and why.
//
// The model toolkit's GEMM is sharded too: nnHost() hands out the module's exports with nnGemm
// replaced by the pool's synchronous row-sharded nnGemm (same arguments, same bits), so the WASM
// NnOps on this backend use every thread without knowing about the pool.

import type { Arena, BackgroundDraw, Range, Role, SampleArgs } from '../backend.js';
import { UsageError } from '../errors.js';
import { workerAdapter } from '../../workers/adapters.js';
import { DEFAULT_MIN_ELEMENTS_PER_WORKER, DEFAULT_WORKER_TIMEOUT_MS } from '../scheduler/defaults.js';
import type { AheadReport } from './pool-ahead.js';
import type { ContentionReport } from '../scheduler/contention.js';
import { PoolRunner } from './pool-runner.js';
import type { WorkerFault } from './pool-worker.js';
import type { GemmPositional } from './pool-gemm.js';
import { WasmBackend, type WasmNnHostBlocks } from './wasm.js';
import { WasmHeap } from './wasm-heap.js';
import { compileKernelModule, createKernelMemory, instantiateKernels, type KernelExports, type WasmModuleSource } from './wasm-module.js';

export { WorkerCrashedError, WorkerTimeoutError } from './pool-errors.js';
export type { WorkerFault } from './pool-worker.js';

const UNDO_CHUNK = 4096;

/**
 * A GEMM is split only when every shard gets at least this many flops (2·rows·n·k). A sharded
 * GEMM costs a wake-up per worker (~25 µs on an idle 16-core host, defaults.ts; 20–60 µs measured
 * here) plus each shard packing all of op(B) itself. One thread runs nnGemm at 20–30 GFLOP/s, so
 * 4 Mflop is ~150 µs of work per shard: at least 6x the wake-up. workers/measure-gemm.ts prints
 * inline vs sharded over sizes; on the 2-core development machine, shared with other jobs, the
 * second thread found no idle core (sharded 0.3–0.9x up to 128³, 0.87–1.25x at 256³), so this
 * default is the estimate above, not a measured crossover: re-measure on an idle multi-core host.
 */
export const DEFAULT_MIN_GEMM_FLOPS_PER_WORKER = 4_000_000;

export interface PoolBackendOptions {
  /** Worker threads to start (≥ 1). The main thread computes a shard as well unless mainThreadShare is false. */
  workers: number;
  /**
   * Shards smaller than this are not worth a worker's wake-up; such calls run on the calling
   * thread. Given: a fixed threshold, and those calls are sharded even when the device is busy.
   * Left out: derived at run time from measured costs (starting at DEFAULT_MIN_ELEMENTS_PER_WORKER).
   */
  minElementsPerWorker?: number;
  mainThreadShare?: boolean;
  /**
   * A GEMM is split by output rows only when every shard gets at least this many flops
   * (2·rows·n·k). Given: fixed, as minElementsPerWorker; left out: derived at run time.
   */
  minGemmFlopsPerWorker?: number;
  /** A kernel still unfinished after this long fails with WorkerTimeoutError (the worker is replaced). */
  workerTimeoutMs?: number;
  /** The kernel-worker script (default: the one shipped next to this module; strict CSP: your own URL). */
  workerUrl?: URL | string;
  /** The shared-memory kernel module override (module, bytes or URL). */
  module?: WasmModuleSource;
  initialBytes?: number;
  maximumBytes?: number;
}

export class PoolBackend extends WasmBackend {
  /** A worker can crash or time out in one group's kernel after other groups' kernels committed. */
  readonly failsMidStep = true;
  /** Arenas destroyed while kernels that use them are still queued: freed once those have run. */
  private readonly retiring = new Set<Arena>();

  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    exports: KernelExports,
    heap: WasmHeap,
    private readonly pool: PoolRunner,
    description: string,
  ) {
    super(module, memory, exports, heap, pool, description);
  }

  get workerCount(): number {
    return this.pool.workerCount;
  }

  /** Shards a GEMM of op(A) m×k by op(B) k×n would use now (1: the calling thread alone). */
  gemmShardsFor(m: number, n: number, k: number): number {
    return this.pool.gemmShardsFor(m, n, k);
  }

  /** GEMMs so far that ran split over the workers. */
  get shardedGemmCount(): number {
    return this.pool.shardedGemms;
  }

  /** The model kernels on this memory, with nnGemm sharded by output rows over the pool. */
  override nnHost(): WasmNnHostBlocks {
    const host = super.nnHost();
    if (!this.pool.shardsGemm) return host;
    const nnGemm: GemmPositional = (transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pack) => {
      this.pool.gemm({ transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pack });
      return 0;
    };
    return { ...host, exports: { ...host.exports, nnGemm } };
  }

  /** Starts drawEpsilon on an idle worker (pool-ahead.ts): the calling thread finishes whatever it has not drawn. */
  drawEpsilonAhead(arena: Arena, ranges: readonly Range[], sample: SampleArgs): BackgroundDraw | undefined {
    const wasmArena = this.own(arena);
    const base = wasmArena.bases.epsilon;
    if (base === undefined) throw new UsageError("wasm pool: drawEpsilonAhead needs an arena with an 'epsilon' role");
    for (const range of ranges) this.view(arena, 'epsilon', range);
    const job = this.pool.startAhead(
      ranges.map((range) => ({ pointer: base + 4 * range.start, range })),
      sample,
      wasmArena.block,
    );
    if (!job) return undefined;
    let settled = false;
    return {
      finish: () => {
        if (settled) throw new UsageError('wasm pool: this background draw was already finished or cancelled');
        settled = true;
        this.pool.finishAhead(job);
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        this.pool.cancelAhead(job);
      },
    };
  }

  /** What the noise drawn ahead has done so far (runtime.explain()). */
  aheadReport(): AheadReport {
    return this.pool.aheadReport();
  }

  /** Shards a call over `count` elements (of `kernel`) would use now (1: the calling thread alone). */
  shardsFor(count: number, kernel?: string): number {
    return this.pool.shardsFor(count, kernel);
  }

  /** The pool's live sharding decisions: measured wake-up + join cost, thresholds, suspended or not, and why. */
  contentionReport(): ContentionReport {
    return this.pool.contentionReport();
  }

  // Synchronous writes wait behind queued kernels (validated now, applied in order).
  override write(arena: Arena, role: Role, start: number, data: Float32Array): void {
    this.view(arena, role, { start, count: data.length });
    if (this.pool.idle) super.write(arena, role, start, data);
    else {
      const copy = data.slice();
      this.pool.enqueue(() => super.write(arena, role, start, copy));
    }
  }

  /** Reads after everything queued when called (not after what is queued later), like the GPU's readback. */
  override read(arena: Arena, role: Role, range: { start: number; count: number }): Promise<Float32Array> {
    const view = this.view(arena, role, range);
    if (this.pool.idle) return Promise.resolve(view.slice());
    return this.pool.after('read', () => this.view(arena, role, range).slice());
  }

  override fill(arena: Arena, role: Role, range: { start: number; count: number }, value: number): void {
    this.view(arena, role, range);
    this.pool.enqueue(() => super.fill(arena, role, range, value));
  }

  /**
   * Frees an arena once the kernels queued before this call have run (they may still write to
   * it), so its memory is never handed to a new arena while something can write into it. From
   * this call on the arena is unusable.
   */
  override destroyArena(arena: Arena): void {
    this.pool.quiesceAhead(this.own(arena).block); // a worker drawing into it stops first
    if (this.pool.idle) {
      super.destroyArena(arena);
      return;
    }
    this.retiring.add(arena);
    this.pool.enqueueCleanup(() => {
      this.retiring.delete(arena);
      super.destroyArena(arena);
    });
  }

  protected override own(arena: Arena): ReturnType<WasmBackend['own']> {
    if (this.retiring.has(arena)) throw new UsageError('wasm pool: this arena was destroyed (its memory is freed once queued kernels finish)');
    return super.own(arena);
  }

  /** Test hook: makes worker `index` crash, hang or throw on a later kernel. */
  injectFault(index: number, fault: WorkerFault): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= this.pool.workerCount) {
      throw new RangeError(`injectFault: worker index must be in [0, ${this.pool.workerCount - 1}], got ${index}`);
    }
    return this.pool.injectFault(index, fault);
  }

  override async dispose(): Promise<void> {
    try {
      await super.dispose();
    } finally {
      await this.pool.dispose();
    }
  }
}

function positiveInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`createPoolBackend: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Starts the workers and returns the sharded wasm backend. Needs SharedArrayBuffer. */
export async function createPoolBackend(options: PoolBackendOptions): Promise<PoolBackend> {
  const workers = positiveInteger('workers', options.workers, 1);
  const minElementsPerWorker = positiveInteger('minElementsPerWorker', options.minElementsPerWorker ?? DEFAULT_MIN_ELEMENTS_PER_WORKER, 16);
  const minGemmFlopsPerWorker = positiveInteger('minGemmFlopsPerWorker', options.minGemmFlopsPerWorker ?? DEFAULT_MIN_GEMM_FLOPS_PER_WORKER, 1);
  const timeoutMs = positiveInteger('workerTimeoutMs', options.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS, 1);
  const mainThreadShare = options.mainThreadShare ?? true;
  if (typeof mainThreadShare !== 'boolean') throw new TypeError(`createPoolBackend: mainThreadShare must be a boolean, got ${String(mainThreadShare)}`);
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new Error('createPoolBackend: SharedArrayBuffer is unavailable (browsers: serve the page with COOP/COEP headers); use the single-thread wasm backend');
  }
  const module = await compileKernelModule(options.module, true);
  const memory = createKernelMemory({ shared: true, initialBytes: options.initialBytes, maximumBytes: options.maximumBytes });
  const exports = await instantiateKernels(module, memory);
  const heap = new WasmHeap(memory, exports.heapBase());
  const adapter = await workerAdapter();
  const pool = await PoolRunner.create({
    module,
    memory,
    exports,
    heap,
    adapter,
    workerUrl: options.workerUrl,
    workers,
    minElementsPerWorker,
    mainThreadShare,
    timeoutMs,
    undoChunk: UNDO_CHUNK,
    minGemmFlopsPerWorker,
    fixedThresholds: { elements: options.minElementsPerWorker !== undefined, gemm: options.minGemmFlopsPerWorker !== undefined },
  });
  const threads = workers + (mainThreadShare ? 1 : 0);
  const description =
    `WebAssembly SIMD (AssemblyScript kernels) on ${workers} worker${workers === 1 ? '' : 's'}` +
    `${mainThreadShare ? ' + the main thread' : ''} (${threads} threads, ${adapter.name} workers), one shared memory, ` +
    (options.minElementsPerWorker !== undefined ? `shards ≥ ${minElementsPerWorker} elements` : `shard thresholds measured at run time (from ${minElementsPerWorker} elements)`);
  return new PoolBackend(module, memory, exports, heap, pool, description);
}
