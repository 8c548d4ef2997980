// Plain-text tables for the terminal: one per suite, and one for the ratios of the run.

import type { Measurement, Ratio, Skip } from './results.js';

/** Left-aligned first column, right-aligned numbers, padded to the widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** 3 significant digits, no exponent for everyday magnitudes. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1000) return x.toFixed(0);
  if (abs >= 100) return x.toFixed(1);
  if (abs >= 10) return x.toFixed(2);
  if (abs >= 0.01) return x.toFixed(3);
  return x.toExponential(2);
}

/** 1048576 → '1M', 65536 → '64K', other counts as they are. */
export function size(n: number): string {
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}M`;
  if (n >= 2 ** 10 && n % 2 ** 10 === 0) return `${n / 2 ** 10}K`;
  return String(n);
}

export function formatMeasurements(results: readonly Measurement[]): string {
  const extra = (m: Measurement): string => {
    const parts: string[] = [];
    if (m.gflops !== undefined) parts.push(`${num(m.gflops)} GFLOP/s`);
    if (m.normals_per_s !== undefined) parts.push(`${num(m.normals_per_s / 1e6)} M normals/s`);
    if (m.cpu_per_wall !== undefined) parts.push(`cpu/wall ${num(m.cpu_per_wall)}`);
    if (m.gpu_median_ms !== undefined) parts.push(`gpu ${num(m.gpu_median_ms)} ms${m.gpu_gbps !== undefined ? ` (${num(m.gpu_gbps)} GB/s)` : ''}`);
    if (m.note) parts.push(m.note);
    return parts.join('; ');
  };
  return table(
    ['backend', 'optimizer', 'what', 'params', 'workers', 'median ms', 'p90 ms', 'ns/param', 'GB/s', 'reps', 'other'],
    results.map((m) => [
      m.backend,
      m.optimizer ?? '—',
      m.name,
      size(m.params),
      String(m.workers),
      num(m.median_ms),
      num(m.p90_ms),
      num(m.ns_per_param),
      num(m.gbps),
      String(m.reps),
      extra(m),
    ]),
  );
}

export function formatRatios(ratios: readonly Ratio[]): string {
  return table(
    ['ratio', 'backend', 'params', 'workers', 'value', 'target', 'meets'],
    ratios.map((r) => [
      r.name,
      r.backend,
      r.params === null ? '—' : size(r.params),
      r.workers === null ? '—' : String(r.workers),
      `${num(r.value)}${r.unit ? ` ${r.unit}` : ''}`,
      r.target ? `${r.target.op} ${r.target.value}` : '—',
      r.meets === null ? '—' : r.meets ? 'yes' : 'NO',
    ]),
  );
}

export function formatSkips(skips: readonly Skip[]): string {
  return skips.map((s) => `  skipped ${s.suite}${s.backend ? ` on ${s.backend}` : ''}: ${s.reason}`).join('\n');
}
