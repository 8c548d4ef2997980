// What every suite gets: the options, the timing plan, and one place to record measurements and
// skips and to print. Suites never print numbers that were not measured in this run.

import type { Runtime } from '../src/runtime.js';
import { openRuntime, type Opened } from './backends.js';
import { formatMeasurements } from './format.js';
import { BARE_HOST, type BenchHost } from './host.js';
import type { BenchOptions } from './options.js';
import type { Measurement, Skip } from './results.js';
import type { GpuInfo } from './suites/webgpu.js';
import { clockResolutionMs, FULL_PLAN, QUICK_PLAN, repeated, summarize, timeInterleaved, type Summary, type TimingPlan } from './stats.js';

/** A timed sample spans at least this many clock steps, so the clock's rounding stays ≤ 1%. */
const CLOCK_STEPS_PER_SAMPLE = 100;

export class SuiteContext {
  readonly results: Measurement[] = [];
  readonly skipped: Skip[] = [];
  readonly plan: TimingPlan;
  /** Shortest sample the clock can time to 1% (bench/stats.ts clockResolutionMs). */
  private readonly minSampleMs = CLOCK_STEPS_PER_SAMPLE * clockResolutionMs();
  /** Set by the webgpu suite: the adapter the GPU rows ran on. */
  gpu: GpuInfo | undefined;

  constructor(
    readonly options: BenchOptions,
    private readonly print: (line: string) => void = (line) => console.log(line),
    readonly host: BenchHost = BARE_HOST,
  ) {
    this.plan = options.quick ? QUICK_PLAN : FULL_PLAN;
  }

  /** A runtime on one backend with the host's options (bench/backends.ts), or why not. */
  openRuntime(kind: Runtime['backend'], extra: Record<string, unknown> = {}): Promise<Opened> {
    return openRuntime(kind, { ...this.host.runtimeOptions, ...extra });
  }

  log(line: string): void {
    this.print(line);
  }

  skip(suite: string, backend: string | null, reason: string): void {
    this.skipped.push({ suite, backend, reason });
    this.print(`  skipped ${suite}${backend ? ` on ${backend}` : ''}: ${reason}`);
  }

  record(m: Measurement): void {
    this.results.push(m);
  }

  /**
   * Warm-up + timed runs of `run`. The first warm-up run also calibrates: work slower than 200 ms
   * a run gets fewer repetitions, so a slow backend at 16M stays within the time budget; work
   * shorter than the clock can time (a browser's coarse clock) is timed several runs per sample.
   */
  async time(run: () => void | Promise<void>): Promise<Summary> {
    return (await this.timeInterleaved([run]))[0];
  }

  /**
   * ctx.time for runs compared with each other, timed in alternation (stats.ts: timeInterleaved).
   * `minReps` raises the plan's repetitions (not with --quick): for ratios of a few percent between
   * runs whose single times scatter by more, such as epochs beside a busy process.
   */
  async timeInterleaved(runs: ReadonlyArray<() => void | Promise<void>>, options: { minReps?: number } = {}): Promise<Summary[]> {
    const cpu = this.cpuMeter();
    const { runsPerSample, msPerRun } = await this.calibrate(runs);
    const planned = this.planFor(msPerRun * runsPerSample);
    const reps = this.options.quick ? 0 : (options.minReps ?? 0);
    const plan = reps > planned.minReps ? { ...planned, minReps: reps, maxReps: Math.max(reps, planned.maxReps) } : planned;
    const timed = runsPerSample === 1 ? runs : runs.map((run) => repeated(run, runsPerSample));
    const samples = await timeInterleaved(timed, { ...plan, warmup: Math.max(0, plan.warmup - 1) });
    return samples.map((s) => {
      const summary = summarize(s.map((ms) => ms / runsPerSample));
      return cpu.annotate(runsPerSample === 1 ? summary : { ...summary, runs_per_sample: runsPerSample });
    });
  }

  /**
   * Runs each of `runs` once (the first warm-up; up to 5 times for work near the clock's limit)
   * and measures a run's time; when that is shorter than the clock can time, keeps running rounds until each run has had minSampleMs on average:
   * that many runs make one sample.
   */
  private async calibrate(runs: ReadonlyArray<() => void | Promise<void>>): Promise<{ runsPerSample: number; msPerRun: number }> {
    const timeOnce = async (): Promise<number> => {
      const t0 = performance.now();
      for (const run of runs) await run();
      return (performance.now() - t0) / runs.length;
    };
    // A run can be slow for reasons of its own (the cold warm-up, a busy machine): work that is
    // not clearly long (under 100 samples' worth) is tried up to 5 times, and counts as long
    // enough to time alone only if every try was.
    let fastest = await timeOnce();
    for (let tries = 1; tries < 5 && fastest >= this.minSampleMs && fastest < 100 * this.minSampleMs; tries++) {
      fastest = Math.min(fastest, await timeOnce());
    }
    if (fastest >= this.minSampleMs) return { runsPerSample: 1, msPerRun: fastest };
    let rounds = 0;
    const t1 = performance.now();
    do {
      for (const run of runs) await run();
      rounds += 1;
    } while (performance.now() - t1 < this.minSampleMs * runs.length && rounds < 100_000);
    return { runsPerSample: rounds, msPerRun: (performance.now() - t1) / rounds / runs.length };
  }

  /**
   * CPU time / wall time from now to annotate(), when the host has a CPU clock. It covers the
   * warm-up and timed runs together (reading the clock inside each timed run would add its own
   * cost to the small rows), so interleaved runs share one figure.
   */
  private cpuMeter(): { annotate(summary: Summary): Summary } {
    const clock = this.host.cpuTimeMs;
    if (!clock) return { annotate: (summary) => summary };
    const cpu0 = clock();
    const wall0 = performance.now();
    return {
      annotate: (summary) => {
        const wall = performance.now() - wall0;
        return wall > 0 ? { ...summary, cpu_per_wall: (clock() - cpu0) / wall } : summary;
      },
    };
  }

  /** A plan for work that takes about `msPerRun`: fewer reps so a slow backend stays within budget. */
  planFor(msPerRun: number): TimingPlan {
    if (msPerRun < 200) return this.plan;
    const reps = Math.max(3, Math.min(this.plan.minReps, Math.floor((this.options.quick ? 1500 : 8000) / msPerRun)));
    return { warmup: 1, minReps: reps, maxReps: reps, minTimeMs: 0 };
  }

  /** Prints the table of one suite's measurements. */
  printTable(title: string, rows: readonly Measurement[]): void {
    if (rows.length === 0) return;
    this.print(`\n${title}\n${formatMeasurements(rows)}`);
  }
}

/** The error text without a stack, for "skipped: why" lines. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0];
}
