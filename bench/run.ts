// `npm run bench`: runs the chosen suites, prints a table per suite and the ratios that matter
// (all measured in this run), and with --out writes { platform, results, ratios, skipped } as JSON.
// Suites whose backend or module is missing are skipped with the reason; nothing is ever estimated.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs, USAGE, type SuiteName } from './cli.js';
import { SuiteContext } from './context.js';
import { formatRatios } from './format.js';
import { describePlatform } from './platform.js';
import { computeRatios } from './ratios.js';
import { validateReport, type Report } from './results.js';
import { runBandwidthSuite } from './suites/bandwidth.js';
import { runEpochSuite } from './suites/epoch.js';
import { runFederatedSuite } from './suites/federated.js';
import { runGemmSuite } from './suites/gemm.js';
import { runOptimizerSuite } from './suites/optimizer.js';
import { runPosteriorSuite } from './suites/posterior.js';
import { runRngSuite } from './suites/rng.js';
import { runWebGpuSuite } from './suites/webgpu.js';
import { runWorkersSuite } from './suites/workers.js';

const SUITE_RUNNERS: Record<SuiteName, (ctx: SuiteContext) => Promise<void>> = {
  optimizer: runOptimizerSuite,
  rng: runRngSuite,
  bandwidth: runBandwidthSuite,
  workers: runWorkersSuite,
  webgpu: runWebGpuSuite,
  gemm: runGemmSuite,
  epoch: runEpochSuite,
  posterior: runPosteriorSuite,
  federated: runFederatedSuite,
};

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const platform = describePlatform(argv, options.quick);
  console.log(`ivon-edge bench — ${platform.runtime} ${platform.version}, ${platform.cores} cores, ${platform.cpu}, ${platform.os}${options.quick ? ' (quick)' : ''}`);
  const ctx = new SuiteContext(options);
  // Keeps Node alive while a suite awaits a promise that nothing else holds the loop open for
  // (a worker pool or GPU that never answers): without it the process would exit silently, code 0.
  const keepAlive = setInterval(() => {}, 60_000);
  for (const suite of options.suites) {
    try {
      await SUITE_RUNNERS[suite](ctx);
    } catch (error) {
      // A suite that breaks is reported as skipped with its error; the other suites still run.
      ctx.skip(suite, null, `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  clearInterval(keepAlive);
  const report: Report = validateReport({ platform, ...(ctx.gpu ? { gpu: ctx.gpu } : {}), results: ctx.results, ratios: computeRatios(ctx.results), skipped: ctx.skipped });
  if (report.ratios.length > 0) console.log(`\n## ratios (same run)\n${formatRatios(report.ratios)}`);
  if (options.out) {
    const path = resolve(options.out);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${report.results.length} measurements, ${report.ratios.length} ratios to ${options.out}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
