// One bench run, wherever it is started: every chosen suite in turn (a suite that breaks is
// reported as skipped with its error, the others still run), then the ratios of this run and the
// validated report. The CLI (bench/run.ts) and the browser page (bench/web/page.ts) both call it,
// so they write the same JSON. The suites here run anywhere; one that needs Node (files, node:
// modules) is registered in its host's `suites` (bench/host-node.ts) instead, so the browser page
// never bundles it and skips it with the reason.

import { SuiteContext } from './context.js';
import type { BenchHost } from './host.js';
import type { BenchOptions, SuiteName } from './options.js';
import { computeRatios } from './ratios.js';
import { validateReport, type Platform, type Report } from './results.js';
import { runBandwidthSuite } from './suites/bandwidth.js';
import { runEpochSuite } from './suites/epoch.js';
import { runGemmSuite } from './suites/gemm.js';
import { runOptimizerSuite } from './suites/optimizer.js';
import { runRngSuite } from './suites/rng.js';
import { runWebGpuSuite } from './suites/webgpu.js';
import { runWorkersSuite } from './suites/workers.js';

export type SuiteRunner = (ctx: SuiteContext) => Promise<void>;

/** Suites that run in Node and in browsers alike. */
export const PORTABLE_SUITES: Partial<Record<SuiteName, SuiteRunner>> = {
  optimizer: runOptimizerSuite,
  rng: runRngSuite,
  bandwidth: runBandwidthSuite,
  workers: runWorkersSuite,
  webgpu: runWebGpuSuite,
  gemm: runGemmSuite,
  epoch: runEpochSuite,
};

export interface RunHooks {
  /** Each line the suites print (tables, skips, progress). */
  print(line: string): void;
  /** Called before each suite starts. */
  onSuite?(suite: SuiteName, index: number, count: number): void;
}

export async function runBench(options: BenchOptions, platform: Platform, host: BenchHost, hooks: RunHooks): Promise<Report> {
  const ctx = new SuiteContext(options, hooks.print, host);
  const runners = { ...PORTABLE_SUITES, ...host.suites };
  for (const [index, suite] of options.suites.entries()) {
    hooks.onSuite?.(suite, index, options.suites.length);
    const runner = runners[suite];
    if (!runner) {
      ctx.skip(suite, null, `the ${suite} suite does not run here (it needs Node: npm run bench -- --suite ${suite})`);
      continue;
    }
    try {
      await runner(ctx);
    } catch (error) {
      ctx.skip(suite, null, `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  return validateReport({ platform, ...(ctx.gpu ? { gpu: ctx.gpu } : {}), results: ctx.results, ratios: computeRatios(ctx.results), skipped: ctx.skipped });
}
