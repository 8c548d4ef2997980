// Command-line options of `npm run bench`, parsed and validated in one place (errors say what
// was wrong and what is accepted), so run.ts and the suites receive plain typed values. The
// tokenizing is node:util's parseArgs; the names and checks are bench/options.ts's, which the
// browser page (bench/web/) shares.

import { parseArgs as parseCommandLine } from 'node:util';
import { BACKENDS, defaultOptions, parseBusy, parseList, parseSizes, parseWorkerCounts, SUITES, type BenchOptions } from './options.js';

export { BACKENDS, CPU_BACKENDS, DEFAULT_SIZES, parseSize, QUICK_SIZES, sizesFor, SUITES, type BenchBackend, type BenchOptions, type SuiteName } from './options.js';

export const USAGE = `usage: npm run bench -- [options]
  --quick                 short runs, 1M parameters only (finishes within about a minute)
  --out FILE              also write the results as JSON to FILE
  --suite NAME[,NAME]     ${SUITES.join(', ')} (default: all)
  --backend B[,B]         ${BACKENDS.join(', ')} (default: all; unavailable ones are skipped with the reason)
  --sizes N[,N]           parameter counts, e.g. 1M,4M,16M (M = 2^20, K = 2^10; default 1M,4M,16M; quick: 1M)
  --workers N[,N]         worker counts for the workers suite (default 1,2)
  --busy N                start N busy processes (another app on the cores) for the run, stop them after (default 0)
  --help                  this text`;

/** Node's parseArgs errors, reworded with the usage text. */
function parseError(error: unknown): Error {
  const e = error as { code?: string; message?: string };
  const option = /'(-[^' ]+)/.exec(e.message ?? '')?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new Error(`${option} needs a value\n${USAGE}`);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new Error(`unknown option '${option}'\n${USAGE}`);
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new Error(`${e.message}\n${USAGE}`);
  return error as Error;
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  let values: Partial<Record<'quick' | 'help', boolean> & Record<'out' | 'suite' | 'suites' | 'backend' | 'backends' | 'sizes' | 'workers' | 'busy', string>>;
  try {
    ({ values } = parseCommandLine({
      args: [...argv],
      options: {
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        out: { type: 'string' },
        suite: { type: 'string' },
        suites: { type: 'string' },
        backend: { type: 'string' },
        backends: { type: 'string' },
        sizes: { type: 'string' },
        workers: { type: 'string' },
        busy: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw parseError(error);
  }
  const o: BenchOptions = { ...defaultOptions(), quick: values.quick ?? false, out: values.out ?? null, help: values.help ?? false };
  const suites = values.suite ?? values.suites;
  if (suites !== undefined) o.suites = parseList('--suite', suites, SUITES);
  const backends = values.backend ?? values.backends;
  if (backends !== undefined) o.backends = parseList('--backend', backends, BACKENDS);
  if (values.sizes !== undefined) o.sizes = parseSizes(values.sizes);
  if (values.workers !== undefined) o.workers = parseWorkerCounts(values.workers);
  if (values.busy !== undefined) o.busy = parseBusy(values.busy);
  return o;
}
