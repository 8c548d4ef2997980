// What a bench run is asked to do — suites, backends, sizes, worker counts — and the checks on
// each value, with no Node import: the CLI (bench/cli.ts) and the browser page (bench/web/) both
// build their BenchOptions from these, so a run means the same thing wherever it starts.

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
  /**
   * Busy processes (`node -e "for(;;){}"`, each in a session of its own, as another app would be)
   * kept running for the whole run, so the pool is measured on a loaded device. Node only; 0: none.
   */
  busy: number;
  help: boolean;
}

export const DEFAULT_SIZES = [2 ** 20, 4 * 2 ** 20, 16 * 2 ** 20];
export const QUICK_SIZES = [2 ** 20];

export function defaultOptions(): BenchOptions {
  return { quick: false, out: null, suites: [...SUITES], backends: [...BACKENDS], sizes: null, workers: [1, 2], busy: 0, help: false };
}

/** '1M' → 1048576, '64K' → 65536, '1000000' → 1000000. Must be a positive multiple of 16. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KkMm]?)$/.exec(text.trim());
  if (!match) throw new Error(`--sizes: '${text}' is not a size; write e.g. 1M, 64K or 1048576`);
  const unit = match[2].toUpperCase() === 'M' ? 2 ** 20 : match[2].toUpperCase() === 'K' ? 2 ** 10 : 1;
  const n = Math.round(Number(match[1]) * unit);
  if (n < 16 || n % 16 !== 0) throw new Error(`--sizes: ${text} = ${n} elements; sizes must be positive multiples of 16 (the layout's alignment)`);
  return n;
}

/** A comma-separated list of names, each one of `allowed`, without duplicates. */
export function parseList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${flag}: give at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown '${item}'; choose from ${allowed.join(', ')}`);
  }
  return [...new Set(items)] as T[];
}

export function parseSizes(text: string): number[] {
  const sizes = text.split(',').filter(Boolean).map(parseSize);
  if (sizes.length === 0) throw new Error('--sizes: give at least one size, e.g. 1M');
  return sizes;
}

/** '1,2,4' → [1, 2, 4]: worker counts for the workers suite, each in 1..64. */
export function parseWorkerCounts(text: string): number[] {
  const ws = text.split(',').filter(Boolean).map((s) => Number(s));
  for (const w of ws) if (!Number.isInteger(w) || w < 1 || w > 64) throw new Error(`--workers: each count must be an integer in 1..64, got ${w}`);
  if (ws.length === 0) throw new Error('--workers: give at least one count, e.g. 1,2');
  return [...new Set(ws)].sort((a, b) => a - b);
}

/** '--busy 1' → 1: busy processes to start for the run, an integer in 0..64. */
export function parseBusy(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 64) throw new Error(`--busy: give the number of busy processes to start, an integer in 0..64, got '${text}'`);
  return n;
}

/** The sizes a suite runs: the user's, else 1M (quick) or 1M, 4M, 16M. */
export function sizesFor(o: BenchOptions): number[] {
  return o.sizes ?? (o.quick ? QUICK_SIZES : DEFAULT_SIZES);
}
