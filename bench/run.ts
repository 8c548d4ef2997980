// `npm run bench`: runs the chosen suites, prints a table per suite and the ratios that matter
// (all measured in this run), and with --out writes { platform, results, ratios, skipped } as JSON.
// Suites whose backend or module is missing are skipped with the reason; nothing is ever estimated.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs, USAGE } from './cli.js';
import { formatRatios } from './format.js';
import { startBusyProcesses } from './busy.js';
import { runBench } from './harness.js';
import { NODE_HOST } from './host-node.js';
import { describePlatform } from './platform-node.js';

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
  // Keeps Node alive while a suite awaits a promise that nothing else holds the loop open for
  // (a worker pool or GPU that never answers): without it the process would exit silently, code 0.
  const keepAlive = setInterval(() => {}, 60_000);
  const busy = options.busy > 0 ? startBusyProcesses(options.busy) : undefined;
  if (busy) console.log(`${busy.count} busy process${busy.count === 1 ? '' : 'es'} running for this run (--busy): the cores are shared with them`);
  let report;
  try {
    report = await runBench(options, platform, NODE_HOST, { print: (line) => console.log(line) });
  } finally {
    busy?.stop();
    clearInterval(keepAlive);
  }
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
