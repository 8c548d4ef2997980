// createRuntime(): the entry point that owns a compute backend. It probes the platform
// (src/scheduler/probe.ts), lets the pure selection (src/scheduler/select.ts) rank the backends,
// builds the first one that starts, and remembers every probe and reason for explain().
// Heavy backends (WASM, the worker pool, WebGPU) are imported only when chosen.

import type { Backend, BackendKind } from './backend.js';
import { JsBackend } from './backends/js.js';
import type { WasmModuleSource } from './backends/wasm-module.js';
import { WorkerStartError } from './backends/pool-errors.js';
import { ConfigError } from './errors.js';
import { knownKeys } from './optim/validate.js';
import { DEFAULT_GPU_MIN_ELEMENTS, DEFAULT_MIN_ELEMENTS_PER_WORKER, DEFAULT_WORKER_TIMEOUT_MS } from './scheduler/defaults.js';
import { NoBackendError } from './scheduler/errors.js';
import { probePlatform, type PlatformProbe } from './scheduler/probe.js';
import { describePlan, selectBackend, type BackendPlan, type SelectionRequest } from './scheduler/select.js';
import type { ContentionReport } from './scheduler/contention.js';
import type { AheadReport } from './backends/pool-ahead.js';
import type { WebGpuBackendOptions } from '../gpu/webgpu-backend.js';

export type BackendChoice = BackendKind | 'auto' | readonly BackendKind[];

export interface RuntimeOptions {
  /** 'auto' (default): the best backend here; a name forces it; a list is tried in order. */
  backend?: BackendChoice;
  /**
   * Worker threads for the WASM backend (the main thread computes a shard too). 'auto' = cores − 1
   * when shared memory is available. Default: 'auto' with backend 'auto', 0 when a backend is named.
   */
  workers?: number | 'auto';
  /**
   * Parameter elements you expect to train (sum over optimizers on this runtime). Unknown at
   * createRuntime time otherwise, so 'auto' assumes a large model: give it to keep small models on
   * the CPU (gpuMinElements) and off workers they cannot use (minElementsPerWorker).
   */
  expectedParams?: number;
  /** 'auto' picks WebGPU from this many expected elements (default in scheduler/defaults.ts). */
  gpuMinElements?: number;
  /** A kernel call is sharded only if every shard gets at least this many elements. */
  minElementsPerWorker?: number;
  /** The model's GEMM is split over workers only if every shard gets at least this many flops. */
  minGemmFlopsPerWorker?: number;
  /** A worker that has not finished its shard after this long is replaced and the step fails. */
  workerTimeoutMs?: number;
  /** Where the kernel-worker script is (strict CSP, CDNs); default: next to the library. */
  workerUrl?: URL | string;
  /** WASM overrides: the kernel module (module, bytes or URL; with workers, the shared-memory build). */
  wasm?: { module?: WasmModuleSource; initialBytes?: number; maximumBytes?: number };
  /** WebGPU options (a device or adapter of your own, limits). */
  gpu?: WebGpuBackendOptions;
  /** Tests and diagnostics: use this platform description instead of probing. */
  platform?: PlatformProbe;
}

export interface Runtime {
  /** The backend in use. */
  readonly backend: BackendKind;
  /** Worker threads computing beside the main thread (0: none). */
  readonly workers: number;
  /** The compute backend object (src/backend.ts), for the model toolkit and advanced users. */
  readonly compute: Backend;
  /** Why this backend was chosen (probes and reasons). */
  explain(): RuntimeExplanation;
  dispose(): Promise<void>;
}

export interface RuntimeExplanation {
  chosen: BackendKind;
  /** Worker threads in use (WASM pool), 0 otherwise. */
  workers: number;
  /** The backend's own description (adapter, threads, SIMD). */
  description: string;
  reason: string;
  /** Every probe's result. */
  probes: PlatformProbe;
  /** Backends not used, and why (refused by the selection, or failed to start). */
  refused: Partial<Record<BackendKind, string>>;
  /**
   * What did not go as asked, each with its cause and its fix (a worker pool that could not start
   * or cannot run here). Empty when the runtime is what was asked for.
   */
  warnings: string[];
  /**
   * The worker pool's live sharding decisions (null without a pool), read when explain() is called:
   * the measured wake-up + join cost per sharded call, the current thresholds, and whether sharding
   * is on or suspended because sharded calls ran slower than one thread (another process is using
   * the cores), with the reason in one sentence. Always present on runtimes from createRuntime.
   */
  sharding?: ContentionReport | null;
  /**
   * The noise IVON draws ahead on a worker while blocks run (docs/PERFORMANCE.md; null without a
   * pool): jobs so far, chunks the worker drew and chunks the calling thread took over, and whether
   * it is paused because the worker did not keep up (the cores are busy), with the reason.
   */
  noiseAhead?: AheadReport | null;
}

const KINDS: readonly BackendKind[] = ['webgpu', 'wasm', 'js'];

/** What to do when the worker pool does not start, said in the error and in the warning. */
const POOL_START_FIX =
  "Fix: the kernel worker must load from beside the library's module (kernel-worker.js; kernel-worker-node.js in Node). Bundlers emit it from the library's " +
  "new Worker(new URL('./kernel-worker.js', import.meta.url), { type: 'module' }) (Vite, webpack); with esbuild or Rollup add 'ivon-edge/kernel-worker' as an entry point " +
  "next to your bundle; or serve node_modules/ivon-edge/dist/kernel-worker.js yourself and pass its URL as workerUrl; under a strict CSP allow it in worker-src " +
  '(docs/PACKAGING.md)';

/** Why an explicitly requested pool cannot run here at all, with the fix. */
function poolUnavailableWarning(requested: number, probes: PlatformProbe): string {
  return (
    `workers: ${requested} was asked for, but the worker pool cannot run here (${probes.sharedMemory.reason ?? 'no shared memory'}), so wasm runs on the main thread. ` +
    'Fix: serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (or credentialless) so it is crossOriginIsolated'
  );
}

class SimpleRuntime implements Runtime {
  constructor(
    readonly compute: Backend,
    readonly workers: number,
    private readonly explanation: Omit<RuntimeExplanation, 'sharding' | 'noiseAhead'>,
  ) {}

  get backend(): BackendKind {
    return this.compute.kind;
  }

  explain(): RuntimeExplanation {
    const pool = this.compute as Partial<{ contentionReport(): ContentionReport; aheadReport(): AheadReport }>;
    const sharding = typeof pool.contentionReport === 'function' ? pool.contentionReport() : null;
    const noiseAhead = typeof pool.aheadReport === 'function' ? pool.aheadReport() : null;
    return { ...structuredClone(this.explanation), sharding, noiseAhead };
  }

  async dispose(): Promise<void> {
    await this.compute.dispose();
  }
}

function parseOrder(backend: unknown): { order: BackendKind[]; forced: boolean } {
  if (backend === undefined || backend === 'auto') return { order: [...KINDS], forced: false };
  const list = typeof backend === 'string' ? [backend] : backend;
  if (!Array.isArray(list) || list.length === 0 || list.some((b) => !KINDS.includes(b)) || new Set(list).size !== list.length) {
    throw new ConfigError(
      `createRuntime: backend must be 'auto', 'js', 'wasm', 'webgpu' or a list of distinct names such as ['webgpu', 'wasm', 'js'], got ${JSON.stringify(backend)}`,
    );
  }
  return { order: [...list], forced: true };
}

function optionalNumber(name: string, value: unknown, ok: (v: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !ok(value)) throw new ConfigError(`createRuntime: ${name} must be ${what}, got ${String(value)}`);
  return value;
}

function parseRequest(options: RuntimeOptions): SelectionRequest {
  const { order, forced } = parseOrder(options.backend);
  const isCount = (v: number) => Number.isSafeInteger(v) && v >= 0;
  let workers: number | 'auto' = forced ? 0 : 'auto';
  if (options.workers !== undefined) {
    if (options.workers !== 'auto' && !(typeof options.workers === 'number' && Number.isInteger(options.workers) && options.workers >= 0 && options.workers <= 256)) {
      throw new ConfigError(`createRuntime: workers must be 'auto' or an integer in [0, 256] (0: main thread only), got ${String(options.workers)}`);
    }
    workers = options.workers;
  }
  return {
    order,
    forced,
    workers,
    expectedParams: optionalNumber('expectedParams', options.expectedParams, isCount, 'an integer ≥ 0 (parameter elements)'),
    gpuMinElements: optionalNumber('gpuMinElements', options.gpuMinElements, isCount, 'an integer ≥ 0') ?? DEFAULT_GPU_MIN_ELEMENTS,
    minElementsPerWorker:
      optionalNumber('minElementsPerWorker', options.minElementsPerWorker, (v) => Number.isSafeInteger(v) && v >= 16, 'an integer ≥ 16') ??
      DEFAULT_MIN_ELEMENTS_PER_WORKER,
  };
}

async function build(plan: BackendPlan, options: RuntimeOptions, request: SelectionRequest): Promise<Backend> {
  switch (plan.kind) {
    case 'js':
      return new JsBackend();
    case 'webgpu': {
      const { createWebGpuBackend } = await import('../gpu/webgpu-backend.js');
      return createWebGpuBackend(options.gpu);
    }
    case 'wasm': {
      if (plan.workers > 0) {
        const { createPoolBackend } = await import('./backends/pool.js');
        return createPoolBackend({
          workers: plan.workers,
          minElementsPerWorker: options.minElementsPerWorker, // left out: derived at run time
          minGemmFlopsPerWorker: options.minGemmFlopsPerWorker,
          workerTimeoutMs: options.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS,
          workerUrl: options.workerUrl,
          ...options.wasm,
        });
      }
      const { createWasmBackend } = await import('./backends/wasm.js');
      return createWasmBackend({ ...options.wasm, shared: false });
    }
  }
}

const RUNTIME_OPTION_KEYS = [
  'backend', 'workers', 'expectedParams', 'gpuMinElements', 'minElementsPerWorker', 'minGemmFlopsPerWorker',
  'workerTimeoutMs', 'workerUrl', 'wasm', 'gpu', 'platform',
] as const satisfies readonly (keyof RuntimeOptions)[];

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  if (options === null || typeof options !== 'object') throw new ConfigError('createRuntime: options must be an object');
  knownKeys('createRuntime', options, RUNTIME_OPTION_KEYS);
  const request = parseRequest(options);
  optionalNumber('workerTimeoutMs', options.workerTimeoutMs, (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1 (milliseconds)');
  const probes = options.platform ?? (await probePlatform({ webgpu: request.order.includes('webgpu') }));
  const selection = selectBackend(probes, request);
  const refused = { ...selection.refused };
  let reason = selection.reason;
  const warnings: string[] = [];
  for (const plan of selection.candidates) {
    try {
      const compute = await build(plan, options, request);
      const workers = plan.kind === 'wasm' ? plan.workers : 0;
      if (plan.kind === 'wasm' && workers === 0 && typeof request.workers === 'number' && request.workers > 0) {
        warnings.push(poolUnavailableWarning(request.workers, probes));
      }
      return new SimpleRuntime(compute, workers, { chosen: compute.kind, workers, description: compute.description, reason, probes, refused, warnings });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (plan.kind === 'wasm' && plan.workers > 0) {
        // A number of workers was asked for: a pool that cannot start is a deployment bug to fix,
        // not something to hide behind a slower runtime.
        if (request.workers !== 'auto') {
          throw new WorkerStartError(`createRuntime: workers: ${request.workers} was asked for, but the worker pool did not start (${message}). ${POOL_START_FIX}; or ask for workers: 'auto' to fall back to one thread.`);
        }
        // 'auto': the threaded path degrades, never fails (PLATFORM.md): one thread, and say why.
        try {
          const { createWasmBackend } = await import('./backends/wasm.js');
          const compute = await createWasmBackend({ ...options.wasm, shared: false, module: undefined });
          reason = `wasm on one thread: the worker pool did not start (${message})`;
          warnings.push(`the worker pool (${plan.workers} workers) did not start, so wasm runs on one thread: ${message}. ${POOL_START_FIX}`);
          return new SimpleRuntime(compute, 0, { chosen: 'wasm', workers: 0, description: compute.description, reason, probes, refused, warnings });
        } catch (inner) {
          refused.wasm = `failed to start: ${(inner as Error).message}`;
          continue;
        }
      }
      refused[plan.kind] = `failed to start: ${message}`;
      const next = selection.candidates[selection.candidates.indexOf(plan) + 1];
      if (next) reason = `${describePlan(next)}: ${selection.notes[next.kind]} (${plan.kind} failed to start: ${message})`;
    }
  }
  throw new NoBackendError(refused);
}
