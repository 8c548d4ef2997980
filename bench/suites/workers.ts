// Suite 'workers': scaling of the WASM path over a worker pool — the sample kernel (compute-bound:
// a normal per element) and the whole IVON step (memory-bound) with 1, 2, … workers against the
// main thread, plus the fixed cost of a sharded step on small models (4K and 64K parameters),
// where the pool's signalling dominates. Each worker count runs twice: with fixed sharding
// (minElementsPerWorker given: every call big enough is split, whatever it costs) and as the
// runtime's default 'auto' sharding, which measures its costs and stops sharding when the shards
// do not overlap (src/scheduler/contention.ts). The main thread, the fixed and the auto pools are
// timed in alternation, and every row carries its own CPU time / wall time (threads really busy).
// With --busy N the run shares the cores with N busy processes (bench/busy.ts): the pool on a
// loaded device. Needs createRuntime({ backend: 'wasm', workers: N }); until the runtime takes and
// reports that option, the suite says so and measures nothing.

import type { Runtime } from '../../src/runtime.js';
import { DEFAULT_MIN_ELEMENTS_PER_WORKER } from '../../src/scheduler/defaults.js';
import type { Summary } from '../stats.js';
import { disposeWithin } from '../backends.js';
import { bytesMoved } from '../bytes.js';
import { sizesFor } from '../options.js';
import type { SuiteContext } from '../context.js';
import { IVON_ROLES, ivonWork } from '../kernel-work.js';
import { measurement, type Measurement } from '../results.js';

const SMALL_SIZES = [4 * 1024, 64 * 1024];

/** The worker count a runtime says it uses, wherever it reports it; undefined if it does not. */
export function reportedWorkers(runtime: Runtime): number | undefined {
  const r = runtime as unknown as { workers?: unknown; compute: { workers?: unknown; workerCount?: unknown; description: string } };
  const explained = runtime.explain() as unknown as { workers?: unknown; probes?: Record<string, unknown> };
  for (const v of [r.workers, r.compute.workers, r.compute.workerCount, explained.workers, explained.probes?.workers]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  }
  const m = /(\d+)\s+workers?\b/.exec(r.compute.description);
  return m ? Number(m[1]) : undefined;
}

/** How a pooled runtime shards: 'fixed' (minElementsPerWorker given) or the default adaptive 'auto'. */
type Sharding = 'fixed' | 'auto';

interface Variant {
  workers: number;
  sharding: Sharding | null; // null: the main thread alone
  runtime: Runtime;
}

/**
 * A pool's shared memory has a fixed maximum (1 GiB by default). The step's arena holds every IVON
 * role, and an in-place kernel needs an undo copy of up to 4 roles besides: at 16M elements that is
 * 832 MiB before fragmentation, so larger runs ask for a larger maximum (reserved, not committed).
 */
function poolMemoryBytes(largest: number): number | undefined {
  const needed = 4 * largest * (IVON_ROLES.length + 4) * 1.5;
  return needed <= 2 ** 30 ? undefined : Math.min(2 ** 32, 2 ** Math.ceil(Math.log2(needed)));
}

/** Row names: the auto pool's rows carry '-auto' ('ivonSample-auto'), so ratios pair them explicitly. */
export const autoName = (name: string): string => `${name}-auto`; // bench/ratios.ts AUTO_SUFFIX

/**
 * `run` wrapped to add its own CPU and wall time to `into`: alternated runs each get their own
 * CPU/wall (the context's meter would give the alternation one shared figure).
 */
function metered(run: () => Promise<void>, clock: () => number, into: { cpu: number; wall: number }): () => Promise<void> {
  return async () => {
    const cpu0 = clock();
    const wall0 = performance.now();
    await run();
    into.wall += performance.now() - wall0;
    into.cpu += clock() - cpu0;
  };
}

/**
 * What the auto pool decided, for the row's note (explain().sharding): for the row's own kernels
 * (the pool judges each kernel on its own), and the pool as a whole.
 */
function shardingNote(runtime: Runtime, kernels: readonly string[]): string | undefined {
  const s = runtime.explain().sharding;
  if (!s) return undefined;
  const own = kernels
    .filter((k) => s.kernels[k])
    .map((k) => `${k} ${s.kernels[k].state}${s.kernels[k].speedup === null ? '' : ` at ${s.kernels[k].speedup}×`}, ${s.kernels[k].probes} probes`);
  const wake = s.wakeJoinUs === null ? '' : `, wake+join ${s.wakeJoinUs} µs`;
  return `auto: ${own.length > 0 ? own.join('; ') : 'no call sharded'} (pool: ${s.state}${wake})`;
}

/** The kernels a row's work calls (the IVON step: the fused update, or the redraw variant on backends that prefer it). */
const ROW_KERNELS: Record<'ivonSample' | 'step', readonly string[]> = {
  ivonSample: ['ivonSample'],
  step: ['ivonUpdateFusedAndSample', 'ivonUpdateAndDraw'],
};

export async function runWorkersSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## workers: main thread vs N workers, fixed and auto sharding (sample kernel, whole IVON step), and the fixed cost of a sharded step');
  if (!ctx.options.backends.includes('wasm')) {
    ctx.skip('workers', 'wasm', 'the workers suite runs the wasm backend; add wasm to --backend');
    return;
  }
  const variants: Variant[] = [];
  const fixedOptions = { minElementsPerWorker: DEFAULT_MIN_ELEMENTS_PER_WORKER };
  const sizes = [...SMALL_SIZES, ...sizesFor(ctx.options)];
  const maximumBytes = poolMemoryBytes(Math.max(...sizes));
  const memory = maximumBytes === undefined ? {} : { wasm: { ...ctx.host.runtimeOptions?.wasm, maximumBytes } };
  try {
    const plans: Array<{ workers: number; sharding: Sharding | null }> = [{ workers: 0, sharding: null }];
    for (const workers of ctx.options.workers) plans.push({ workers, sharding: 'fixed' }, { workers, sharding: 'auto' });
    for (const plan of plans) {
      const extra = plan.workers === 0 ? {} : { workers: plan.workers, ...memory, ...(plan.sharding === 'fixed' ? fixedOptions : {}) };
      const opened = await ctx.openRuntime('wasm', extra);
      if (!opened.ok) {
        ctx.skip('workers', 'wasm', plan.workers === 0 ? opened.reason : `createRuntime({ backend: 'wasm', workers: ${plan.workers} }) failed: ${opened.reason}`);
        return;
      }
      variants.push({ ...plan, runtime: opened.runtime });
      const reported = reportedWorkers(opened.runtime);
      if (plan.workers > 0 && reported !== plan.workers) {
        ctx.skip(
          'workers',
          'wasm',
          reported === undefined
            ? `createRuntime({ backend: 'wasm', workers: ${plan.workers} }) reports no worker count (runtime.workers, explain().workers or "N workers" in its description): the worker pool is not available yet`
            : `asked for ${plan.workers} workers, the runtime reports ${reported} (this machine has fewer cores or no SharedArrayBuffer?)`,
        );
        return;
      }
    }
    const rows: Measurement[] = [];
    const clock = ctx.host.cpuTimeMs;
    const busy = ctx.options.busy;
    for (const n of sizes) {
      const works = variants.map((v) => ivonWork(v.runtime.compute, n));
      try {
        for (const [name, bytes] of [['ivonSample', bytesMoved('ivonSample', n)], ['step', bytesMoved('ivonStep', n)]] as const) {
          const meters = variants.map(() => ({ cpu: 0, wall: 0 }));
          const runs = works.map((kw, i) => (clock ? metered(kw.work[name], clock, meters[i]) : kw.work[name]));
          const summaries = await ctx.timeInterleaved(runs);
          summaries.forEach((summary: Summary, i) => {
            const v = variants[i];
            const own: Summary = clock && meters[i].wall > 0 ? { ...summary, cpu_per_wall: meters[i].cpu / meters[i].wall } : summary;
            const note = v.sharding === 'auto' ? shardingNote(v.runtime, ROW_KERNELS[name]) : v.sharding === 'fixed' ? 'fixed sharding' : undefined;
            const base = { suite: 'workers', backend: 'wasm', optimizer: 'ivon', params: n, workers: v.workers, ...(note ? { note } : {}) };
            const row = measurement({ ...base, name: v.sharding === 'auto' ? autoName(name) : name }, own, { bytes });
            if (busy > 0) row.busy_processes = busy;
            rows.push(row);
          });
        }
      } finally {
        works.forEach((kw) => kw.dispose());
      }
    }
    rows.forEach((r) => ctx.record(r));
    ctx.printTable(`workers (0 = main thread, no pool; '-auto' = adaptive sharding${busy > 0 ? `; ${busy} busy processes running` : ''})`, rows);
  } finally {
    for (const v of variants) {
      const problem = await disposeWithin(v.runtime);
      if (problem) ctx.log(`  warning: ${v.workers} workers (${v.sharding ?? 'main'}): ${problem}`);
    }
  }
}
