// The shape every part of the main job returns, and how the console prints it. A part is tables
// (already formatted cells, so console, report.json and report.html show the same strings),
// claims (an interval and the verdict the one rule in verdict.ts gives it), figures (SVG text),
// notes, and its raw numbers under `data` for anyone re-analysing report.json.
import { type Claim, verdictLine } from './verdict.js';

/** "IVON better on 3, AdamW better on 1, no resolved difference on 4 of 8 claims". */
export function tally(claims: Claim[]): string {
  const counts = new Map<string, number>();
  for (const c of claims) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const parts = [...counts].map(([verdict, n]) => (verdict === 'no resolved difference' ? `no resolved difference on ${n}` : `${verdict} on ${n}`));
  return `in sum: ${parts.join(', ')} of ${claims.length} claims`;
}

export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface Figure {
  /** File name written beside report.json, e.g. "reliability.svg". */
  file: string;
  caption: string;
  svg: string;
}

export interface PartResult {
  id: string;
  title: string;
  /** One paragraph: what was done and how settings were chosen. */
  method: string;
  tables: Table[];
  claims: Claim[];
  figures: Figure[];
  notes: string[];
  seconds: number;
  data: Record<string, unknown>;
}

export interface MainJobReport {
  backend: string;
  config: unknown;
  seeds: number[];
  parts: PartResult[];
  /** Posterior warnings raised while training (empty when IVON's posterior stayed healthy). */
  warnings: string[];
  /** Wall time, and the process's CPU time (on a shared machine the wall time says little). */
  seconds: number;
  cpuSeconds: number;
}

/** A Markdown-style table padded to its widest cell per column. */
export function formatTable(t: Table): string {
  const widths = t.columns.map((c, j) => Math.max(c.length, ...t.rows.map((r) => (r[j] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, j) => (c ?? '').padEnd(widths[j])).join(' | ')} |`;
  return [t.title, line(t.columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...t.rows.map(line)].join('\n');
}

/** Everything the console prints for a report: per part its tables, notes and one verdict line per claim. */
export function formatReport(r: MainJobReport): string {
  const out: string[] = [`backend ${r.backend}; seeds ${r.seeds.join(', ')}; ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU`];
  for (const p of r.parts) {
    out.push('', `== ${p.title} (${p.seconds.toFixed(1)} s)`, p.method);
    for (const t of p.tables) out.push('', formatTable(t));
    if (p.notes.length) out.push('', ...p.notes);
    if (p.claims.length) out.push('', ...p.claims.map(verdictLine), tally(p.claims));
  }
  if (r.warnings.length) out.push('', 'posterior warnings:', ...r.warnings.map((w) => `  ${w}`));
  return out.join('\n');
}

export const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
export const f4 = (v: number) => v.toFixed(4);
