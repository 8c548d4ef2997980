// Suite 'workers': scaling of the WASM path over a worker pool — the sample kernel (compute-bound:
// a normal per element) and the whole IVON step (memory-bound) with 1, 2, … workers against the
// main thread, plus the fixed cost of a sharded step on small models (4K and 64K parameters),
// where the pool's signalling dominates. Needs createRuntime({ backend: 'wasm', workers: N });
// until the runtime takes and reports that option, the suite says so and measures nothing.

import type { Runtime } from '../../src/runtime.js';
import { disposeWithin } from '../backends.js';
import { bytesMoved } from '../bytes.js';
import { sizesFor } from '../options.js';
import type { SuiteContext } from '../context.js';
import { ivonWork } from '../kernel-work.js';
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

export async function runWorkersSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## workers: 1 vs N workers (sample kernel, whole IVON step) and the fixed cost of a sharded step');
  if (!ctx.options.backends.includes('wasm')) {
    ctx.skip('workers', 'wasm', 'the workers suite runs the wasm backend; add wasm to --backend');
    return;
  }
  const counts = [0, ...ctx.options.workers];
  const runtimes = new Map<number, Runtime>();
  try {
    for (const workers of counts) {
      const opened = await ctx.openRuntime('wasm', workers === 0 ? {} : { workers });
      if (!opened.ok) {
        ctx.skip('workers', 'wasm', workers === 0 ? opened.reason : `createRuntime({ backend: 'wasm', workers: ${workers} }) failed: ${opened.reason}`);
        return;
      }
      runtimes.set(workers, opened.runtime);
      const reported = reportedWorkers(opened.runtime);
      if (workers > 0 && reported !== workers) {
        ctx.skip(
          'workers',
          'wasm',
          reported === undefined
            ? `createRuntime({ backend: 'wasm', workers: ${workers} }) reports no worker count (runtime.workers, explain().workers or "N workers" in its description): the worker pool is not available yet`
            : `asked for ${workers} workers, the runtime reports ${reported} (this machine has fewer cores or no SharedArrayBuffer?)`,
        );
        return;
      }
    }
    const rows: Measurement[] = [];
    for (const n of [...SMALL_SIZES, ...sizesFor(ctx.options)]) {
      for (const [workers, runtime] of runtimes) {
        const kw = ivonWork(runtime.compute, n);
        try {
          const base = { suite: 'workers', backend: 'wasm', optimizer: 'ivon', params: n, workers };
          rows.push(measurement({ ...base, name: 'ivonSample' }, await ctx.time(kw.work.ivonSample), { bytes: bytesMoved('ivonSample', n) }));
          rows.push(measurement({ ...base, name: 'step' }, await ctx.time(kw.work.step), { bytes: bytesMoved('ivonStep', n) }));
        } finally {
          kw.dispose();
        }
      }
    }
    rows.forEach((r) => ctx.record(r));
    ctx.printTable('workers (0 = main thread, no pool)', rows);
  } finally {
    for (const [workers, runtime] of runtimes) {
      const problem = await disposeWithin(runtime);
      if (problem) ctx.log(`  warning: ${workers} workers: ${problem}`);
    }
  }
}
