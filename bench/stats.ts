// Timing statistics for the benchmark harness: a warm-up, then repeated timed runs summarised by
// median and p90. Medians resist the noise of a shared 2-core machine better than means; p90 shows
// how bad the tail is. The clock is injectable so the loop's logic is testable without timing.

import { quantile } from '../src/metrics/quantile.js';

export { quantile };

export interface Summary {
  reps: number;
  median_ms: number;
  p90_ms: number;
  min_ms: number;
  mean_ms: number;
  /** Process CPU time / wall time over the runs (all threads), where the host has a CPU clock. */
  cpu_per_wall?: number;
  /** Runs timed together as one sample, when one run is too short for the clock (see clockResolutionMs). */
  runs_per_sample?: number;
}

export interface TimingPlan {
  /** Untimed runs first (JIT, page faults on fresh buffers, GPU pipeline caches). */
  warmup: number;
  /** Timed runs at least... */
  minReps: number;
  /** ...and at most. */
  maxReps: number;
  /** Keep timing until this much time has been spent (or maxReps is reached). */
  minTimeMs: number;
}

export const QUICK_PLAN: TimingPlan = { warmup: 1, minReps: 3, maxReps: 10, minTimeMs: 150 };
export const FULL_PLAN: TimingPlan = { warmup: 3, minReps: 10, maxReps: 60, minTimeMs: 1500 };

export function summarize(samplesMs: readonly number[]): Summary {
  if (samplesMs.length === 0) throw new Error('summarize: no samples');
  for (const s of samplesMs) if (!Number.isFinite(s) || s < 0) throw new Error(`summarize: bad sample ${s}`);
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    reps: sorted.length,
    median_ms: quantile(sorted, 0.5),
    p90_ms: quantile(sorted, 0.9),
    min_ms: sorted[0],
    mean_ms: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

export type Clock = () => number;

/**
 * Runs `run` plan.warmup times untimed, then times single runs until both minReps and minTimeMs
 * are reached, or maxReps. `run` may return a promise (GPU / worker backends finish in flush()).
 */
export async function timeRuns(run: () => void | Promise<void>, plan: TimingPlan, clock: Clock = () => performance.now()): Promise<number[]> {
  return (await timeInterleaved([run], plan, clock))[0];
}

/**
 * timeRuns for several runs compared with each other: round after round, each run once in turn
 * (warm-up rounds first), so a slow spell of the shared machine lands on all of them alike instead
 * of on whichever was being timed. Each round starts one run later than the one before (a, b, c;
 * b, c, a; …), so a cost that depends on the position in a round — the first run after another
 * runtime's finds its memory out of cache and its pool's worker asleep — lands on every run alike
 * too (beside a busy process, whichever pooled epoch came first in a round was the slow one). Returns each
 * run's samples; a round counts once toward the plan.
 */
export async function timeInterleaved(runs: ReadonlyArray<() => void | Promise<void>>, plan: TimingPlan, clock: Clock = () => performance.now()): Promise<number[][]> {
  if (plan.minReps < 1 || plan.maxReps < plan.minReps) throw new Error(`timing plan: need 1 <= minReps <= maxReps, got ${plan.minReps}, ${plan.maxReps}`);
  if (runs.length === 0) throw new Error('timeInterleaved: no runs to time');
  for (let i = 0; i < plan.warmup; i++) for (const run of runs) await run();
  const samples = runs.map((): number[] => []);
  const start = clock();
  for (let round = 1; round <= plan.maxReps; round++) {
    for (let k = 0; k < runs.length; k++) {
      const i = (round - 1 + k) % runs.length;
      const t0 = clock();
      await runs[i]();
      samples[i].push(clock() - t0);
    }
    if (round >= plan.minReps && clock() - start >= plan.minTimeMs) break;
  }
  return samples;
}

/**
 * The smallest step the clock takes. Node's performance.now() resolves well under a microsecond;
 * browsers coarsen it against timing attacks (Chromium: 5 µs cross-origin isolated, 100 µs not),
 * where a 20 µs kernel would time as 0 or 100 µs.
 */
export function clockResolutionMs(clock: Clock = () => performance.now()): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = clock();
    let t1 = clock();
    while (t1 === t0) t1 = clock();
    best = Math.min(best, t1 - t0);
  }
  return best;
}

/** `run` repeated `times` times in a row, as one timed sample. */
export function repeated(run: () => void | Promise<void>, times: number): () => Promise<void> {
  return async () => {
    for (let i = 0; i < times; i++) await run();
  };
}

/** Achieved bandwidth in GB/s (1e9 bytes per second) for `bytes` moved in `ms` milliseconds. */
export function gbPerSecond(bytes: number, ms: number): number {
  if (!(ms > 0)) throw new Error(`gbPerSecond: time must be positive, got ${ms}`);
  return bytes / (ms * 1e6);
}

/** Nanoseconds per element for one run over `elements` taking `ms`. */
export function nsPerElement(ms: number, elements: number): number {
  if (!(elements > 0)) throw new Error(`nsPerElement: elements must be positive, got ${elements}`);
  return (ms * 1e6) / elements;
}
