// Command-line options of `npm run bench`, parsed and validated in one place (errors say what
// was wrong and what is accepted), so run.ts and the suites receive plain typed values. The
// tokenizing is node:util's parseArgs; this file adds the validation and the messages.

import { parseArgs as parseCommandLine } from 'node:util';

export const SUITES = ['optimizer', 'rng', 'bandwidth', 'workers', 'webgpu', 'gemm', 'epoch', 'posterior', 'federated'] as const;
export type SuiteName = (typeof SUITES)[number];
export const CPU_BACKENDS = ['js', 'wasm'] as const;
export const BACKENDS = ['js', 'wasm', 'webgpu'] as const;
export type BenchBackend = (typeof BACKENDS)[number];

export interface BenchOptions {
  quick: boolean;
  out: string | null;
  suites: SuiteName[];
  backends: BenchBackend[];
  /** Parameter counts; null: the suite's defaults (quick or full). */
  sizes: number[] | null;
  workers: number[];
  help: boolean;
}

export const DEFAULT_SIZES = [2 ** 20, 4 * 2 ** 20, 16 * 2 ** 20];
export const QUICK_SIZES = [2 ** 20];

export const USAGE = `usage: npm run bench -- [options]
  --quick                 short runs, 1M parameters only (finishes within about a minute)
  --out FILE              also write the results as JSON to FILE
  --suite NAME[,NAME]     ${SUITES.join(', ')} (default: all)
  --backend B[,B]         ${BACKENDS.join(', ')} (default: all; unavailable ones are skipped with the reason)
  --sizes N[,N]           parameter counts, e.g. 1M,4M,16M (M = 2^20, K = 2^10; default 1M,4M,16M; quick: 1M)
  --workers N[,N]         worker counts for the workers suite (default 1,2)
  --help                  this text`;

/** '1M' → 1048576, '64K' → 65536, '1000000' → 1000000. Must be a positive multiple of 16. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KkMm]?)$/.exec(text.trim());
  if (!match) throw new Error(`--sizes: '${text}' is not a size; write e.g. 1M, 64K or 1048576`);
  const unit = match[2].toUpperCase() === 'M' ? 2 ** 20 : match[2].toUpperCase() === 'K' ? 2 ** 10 : 1;
  const n = Math.round(Number(match[1]) * unit);
  if (n < 16 || n % 16 !== 0) throw new Error(`--sizes: ${text} = ${n} elements; sizes must be positive multiples of 16 (the layout's alignment)`);
  return n;
}

function list<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${flag}: give at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown '${item}'; choose from ${allowed.join(', ')}`);
  }
  return [...new Set(items)] as T[];
}

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
  let values: Partial<Record<'quick' | 'help', boolean> & Record<'out' | 'suite' | 'suites' | 'backend' | 'backends' | 'sizes' | 'workers', string>>;
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
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw parseError(error);
  }
  const o: BenchOptions = { quick: values.quick ?? false, out: values.out ?? null, suites: [...SUITES], backends: [...BACKENDS], sizes: null, workers: [1, 2], help: values.help ?? false };
  const suites = values.suite ?? values.suites;
  if (suites !== undefined) o.suites = list('--suite', suites, SUITES);
  const backends = values.backend ?? values.backends;
  if (backends !== undefined) o.backends = list('--backend', backends, BACKENDS);
  if (values.sizes !== undefined) {
    o.sizes = values.sizes.split(',').filter(Boolean).map(parseSize);
    if (o.sizes.length === 0) throw new Error('--sizes: give at least one size, e.g. 1M');
  }
  if (values.workers !== undefined) {
    const ws = values.workers.split(',').filter(Boolean).map((s) => Number(s));
    for (const w of ws) if (!Number.isInteger(w) || w < 1 || w > 64) throw new Error(`--workers: each count must be an integer in 1..64, got ${w}`);
    if (ws.length === 0) throw new Error('--workers: give at least one count, e.g. 1,2');
    o.workers = [...new Set(ws)].sort((a, b) => a - b);
  }
  return o;
}

/** The sizes a suite runs: the user's, else 1M (quick) or 1M, 4M, 16M. */
export function sizesFor(o: BenchOptions): number[] {
  return o.sizes ?? (o.quick ? QUICK_SIZES : DEFAULT_SIZES);
}
