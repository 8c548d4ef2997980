// The backend choice as a pure function of a PlatformProbe and the user's request, so every rule
// is tested against simulated platforms. Order of preference for 'auto': WebGPU (a hardware
// adapter, and a model known to be big enough for the GPU to win), then WASM SIMD sharded across
// workers (shared memory and more than one core), then WASM SIMD on one thread, then plain
// TypeScript. A model of unknown size stays on the CPU: the pool shards only calls big enough to
// gain (every shard ≥ minElementsPerWorker), so guessing "large" costs a small model nothing there,
// while a GPU step pays a fixed ~1 ms of submits and readbacks that a small model cannot win back.

import type { BackendKind } from '../backend.js';
import type { PlatformProbe } from './probe.js';

export type BackendName = BackendKind;

export interface SelectionRequest {
  /** Candidates in order of preference ('auto' is ['webgpu', 'wasm', 'js']). */
  order: readonly BackendName[];
  /** True when the user named the backends (software GPU adapters are then accepted). */
  forced: boolean;
  /** Parameter elements the user expects to train; undefined: unknown (assume large). */
  expectedParams?: number;
  /** WebGPU is chosen by 'auto' only from this many elements (see defaults.ts for the measurement). */
  gpuMinElements: number;
  /** Worker threads wanted: a number, or 'auto' (cores − 1, the main thread computes a shard too). */
  workers: number | 'auto';
  /** A shard smaller than this runs on the calling thread instead. */
  minElementsPerWorker: number;
}

export type BackendPlan =
  | { kind: 'webgpu' }
  | { kind: 'wasm'; workers: number }
  | { kind: 'js' };

export interface Selection {
  /** The plans that can work here, best first (the runtime tries them in order). */
  candidates: BackendPlan[];
  /** Why each refused backend was refused. */
  refused: Partial<Record<BackendName, string>>;
  /** One sentence on the first candidate. */
  reason: string;
  /** Why each candidate can run (the reason, should the ones before it fail to start). */
  notes: Partial<Record<BackendName, string>>;
}

export const describePlan = (plan: BackendPlan): string =>
  plan.kind === 'wasm' ? (plan.workers > 0 ? `wasm with ${plan.workers} worker thread(s) plus the main thread` : 'wasm on one thread') : plan.kind;

export function selectBackend(probe: PlatformProbe, request: SelectionRequest): Selection {
  const refused: Partial<Record<BackendName, string>> = {};
  const notes: Partial<Record<BackendName, string>> = {};
  const candidates: BackendPlan[] = [];
  for (const name of request.order) {
    const verdict = judge(name, probe, request);
    if ('refusal' in verdict) refused[name] = verdict.refusal;
    else {
      candidates.push(verdict.plan);
      notes[name] = verdict.note;
    }
  }
  const first = candidates[0];
  const reason = first
    ? `${describePlan(first)}: ${notes[first.kind]}` +
      (Object.keys(refused).length > 0 ? ` (refused: ${Object.entries(refused).map(([k, v]) => `${k}: ${v}`).join('; ')})` : '')
    : 'no backend can run here';
  return { candidates, refused, reason, notes };
}

type Verdict = { plan: BackendPlan; note: string } | { refusal: string };

function judge(name: BackendName, probe: PlatformProbe, request: SelectionRequest): Verdict {
  switch (name) {
    case 'webgpu':
      return judgeWebGpu(probe, request);
    case 'wasm':
      return judgeWasm(probe, request);
    case 'js':
      return { plan: { kind: 'js' }, note: request.forced ? 'requested' : 'the portable fallback' };
  }
}

function judgeWebGpu(probe: PlatformProbe, request: SelectionRequest): Verdict {
  const gpu = probe.webgpu;
  if (!gpu.available) return { refusal: gpu.reason ?? 'no WebGPU adapter' };
  if (request.forced && request.order.length === 1) return { plan: { kind: 'webgpu' }, note: `requested (${gpu.adapter})` };
  if (gpu.software) return { refusal: `the adapter (${gpu.adapter}) is a software rasterizer, slower than WASM on the CPU; force backend: 'webgpu' to use it anyway` };
  const n = request.expectedParams;
  if (n === undefined && !request.forced) {
    return {
      refusal: `model size unknown: 'auto' uses the GPU (${gpu.adapter}) only for expectedParams ≥ gpuMinElements ${request.gpuMinElements}; give expectedParams, or backend: 'webgpu' to force it`,
    };
  }
  if (n !== undefined && n < request.gpuMinElements) {
    return { refusal: `expectedParams ${n} < gpuMinElements ${request.gpuMinElements}: a step this small is dominated by the GPU's fixed submit/readback latency` };
  }
  return { plan: { kind: 'webgpu' }, note: `hardware adapter ${gpu.adapter}${n === undefined ? ' (model size unknown)' : `, ${n} ≥ gpuMinElements ${request.gpuMinElements}`}` };
}

function judgeWasm(probe: PlatformProbe, request: SelectionRequest): Verdict {
  if (!probe.wasm.available) return { refusal: probe.wasm.reason ?? 'WebAssembly is unavailable' };
  if (!probe.wasm.simd) return { refusal: probe.wasm.reason ?? 'WebAssembly SIMD is unsupported' };
  const { workers, why } = workerCount(probe, request);
  return { plan: { kind: 'wasm', workers }, note: `WebAssembly SIMD; ${why}` };
}

/** Worker threads for the WASM pool, and why that many (0 = the main thread alone). */
export function workerCount(probe: PlatformProbe, request: SelectionRequest): { workers: number; why: string } {
  if (request.workers === 0) return { workers: 0, why: 'workers: 0 requested, main thread only' };
  if (!probe.sharedMemory.available) return { workers: 0, why: `main thread only, because ${probe.sharedMemory.reason}` };
  const wanted = request.workers === 'auto' ? probe.cores - 1 : request.workers;
  if (wanted < 1) return { workers: 0, why: `main thread only: ${probe.cores} core(s)` };
  const n = request.expectedParams;
  if (n !== undefined && request.workers === 'auto') {
    const useful = Math.floor(n / request.minElementsPerWorker) - 1;
    if (useful < 1) {
      return { workers: 0, why: `main thread only: expectedParams ${n} < 2 × minElementsPerWorker ${request.minElementsPerWorker}, too small to shard` };
    }
    if (useful < wanted) return { workers: useful, why: `${useful} worker(s) + main thread: expectedParams ${n} fills ${useful + 1} shards of minElementsPerWorker ${request.minElementsPerWorker}` };
  }
  return {
    workers: wanted,
    why: `${wanted} worker(s) + main thread over one shared memory (${probe.cores} cores${probe.sharedMemory.atomicsWaitAsync ? '' : '; no Atomics.waitAsync, the main thread polls'})`,
  };
}
