// The browser page's options from its URL (?suite=…&backend=…&sizes=…&workers=…&quick=0), with
// the CLI's names and checks (bench/options.ts), so a link reproduces a run. The page's defaults
// differ from the CLI's in one way: js is left out (the plain-TypeScript rows take minutes on a
// phone and say nothing about the device that wasm and WebGPU do not); ?backend=js,wasm,webgpu adds it.
// The default suites are those a browser can run (bench/harness.ts PORTABLE_SUITES).

import { PORTABLE_SUITES } from '../harness.js';
import { defaultOptions, parseList, parseSizes, parseWorkerCounts, SUITES, BACKENDS, type BenchOptions } from '../options.js';

export const PAGE_DEFAULT_BACKENDS = ['wasm', 'webgpu'] as const;

export function optionsFromQuery(query: URLSearchParams): BenchOptions {
  const options = defaultOptions();
  options.backends = [...PAGE_DEFAULT_BACKENDS];
  options.suites = SUITES.filter((suite) => suite in PORTABLE_SUITES);
  options.quick = query.get('quick') !== '0';
  const known = ['suite', 'backend', 'sizes', 'workers', 'quick', 'run'];
  for (const key of query.keys()) if (!known.includes(key)) throw new Error(`unknown page option '${key}'; known: ${known.join(', ')}`);
  const text = (key: string) => query.get(key) ?? '';
  if (query.has('suite')) options.suites = parseList('suite', text('suite'), SUITES);
  if (query.has('backend')) options.backends = parseList('backend', text('backend'), BACKENDS);
  if (query.has('sizes')) options.sizes = parseSizes(text('sizes'));
  if (query.has('workers')) options.workers = parseWorkerCounts(text('workers'));
  return options;
}

/** The query string that reproduces `options` (the inverse of optionsFromQuery). */
export function queryOf(options: BenchOptions): string {
  const query = new URLSearchParams();
  query.set('suite', options.suites.join(','));
  query.set('backend', options.backends.join(','));
  if (options.sizes) query.set('sizes', options.sizes.join(','));
  query.set('workers', options.workers.join(','));
  query.set('quick', options.quick ? '1' : '0');
  return query.toString();
}
