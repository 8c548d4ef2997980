// Command-line options of `npm run bench`, parsed and validated in one place (errors say what
// was wrong and what is accepted), so run.ts and the suites receive plain typed values.

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

export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = { quick: false, out: null, suites: [...SUITES], backends: [...BACKENDS], sizes: null, workers: [1, 2], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0 && arg.startsWith('--')) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--out':
        o.out = value();
        break;
      case '--suite':
      case '--suites':
        o.suites = list('--suite', value(), SUITES);
        break;
      case '--backend':
      case '--backends':
        o.backends = list('--backend', value(), BACKENDS);
        break;
      case '--sizes':
        o.sizes = value().split(',').filter(Boolean).map(parseSize);
        if (o.sizes.length === 0) throw new Error('--sizes: give at least one size, e.g. 1M');
        break;
      case '--workers': {
        const ws = value().split(',').filter(Boolean).map((s) => Number(s));
        for (const w of ws) if (!Number.isInteger(w) || w < 1 || w > 64) throw new Error(`--workers: each count must be an integer in 1..64, got ${w}`);
        if (ws.length === 0) throw new Error('--workers: give at least one count, e.g. 1,2');
        o.workers = [...new Set(ws)].sort((a, b) => a - b);
        break;
      }
      default:
        throw new Error(`unknown option '${arg}'\n${USAGE}`);
    }
  }
  return o;
}

/** The sizes a suite runs: the user's, else 1M (quick) or 1M, 4M, 16M. */
export function sizesFor(o: BenchOptions): number[] {
  return o.sizes ?? (o.quick ? QUICK_SIZES : DEFAULT_SIZES);
}
