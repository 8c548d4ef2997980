// The ratios of a run as an SVG bar chart (no library: a page opened on a phone must need nothing
// else). Only dimensionless ratios (× or plain) are plotted, on one log axis so 0.5× and 2× are
// equally far from 1; each bar is green when it meets its target, red when not, grey when it has
// none, and the target is a tick on its row. Ratios in other units stay in the table.

import { size } from '../format.js';
import type { Ratio } from '../results.js';

const ROW = 22;
const LABEL = 360;
const BAR = 420;
const PAD = 40;

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** The ratios the chart shows: dimensionless, finite and positive (a log axis needs > 0). */
export function plottedRatios(ratios: readonly Ratio[]): Ratio[] {
  return ratios.filter((r) => (r.unit === '×' || r.unit === '') && Number.isFinite(r.value) && r.value > 0);
}

export function ratiosSvg(ratios: readonly Ratio[]): string {
  const rows = plottedRatios(ratios);
  const width = LABEL + BAR + 2 * PAD;
  const height = PAD * 2 + Math.max(1, rows.length) * ROW;
  if (rows.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img"><text x="${PAD}" y="${PAD + 14}" font-size="13">no dimensionless ratios in this run</text></svg>`;
  }
  const logs = rows.flatMap((r) => [Math.log10(r.value), ...(r.target ? [Math.log10(r.target.value)] : [])]);
  const lo = Math.min(Math.floor(Math.min(...logs, 0) * 2) / 2, -0.5);
  const hi = Math.max(Math.ceil(Math.max(...logs, 0) * 2) / 2, 0.5);
  const x = (v: number) => LABEL + PAD + ((Math.log10(v) - lo) / (hi - lo)) * BAR;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11" role="img">`,
    `<title>ivon-edge bench: ratios measured in this run (log scale)</title>`,
  ];
  for (let e = Math.ceil(lo * 2) / 2; e <= hi + 1e-9; e += 0.5) {
    const v = 10 ** e;
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${PAD - 6}" y2="${height - PAD}" stroke="${e === 0 ? '#333' : '#ddd'}"/>`);
    parts.push(`<text x="${x(v)}" y="${PAD - 10}" text-anchor="middle">${v >= 1 ? Number(v.toPrecision(2)) : v.toPrecision(2)}</text>`);
  }
  rows.forEach((r, i) => {
    const y = PAD + i * ROW;
    const color = r.meets === null ? '#888' : r.meets ? '#2a8a3a' : '#c0392b';
    const label = `${r.name} · ${r.backend}${r.params === null ? '' : ` · ${size(r.params)}`}${r.workers ? ` · ${r.workers}w` : ''}`;
    const [a, b] = [x(Math.min(1, r.value)), x(Math.max(1, r.value))];
    parts.push(`<text x="${LABEL + PAD - 6}" y="${y + 14}" text-anchor="end">${escapeXml(label)}</text>`);
    parts.push(`<rect x="${a}" y="${y + 4}" width="${Math.max(1, b - a)}" height="${ROW - 8}" fill="${color}"><title>${escapeXml(`${r.name}: ${r.value}`)}</title></rect>`);
    parts.push(`<text x="${x(r.value) + (r.value >= 1 ? 4 : -4)}" y="${y + 14}" text-anchor="${r.value >= 1 ? 'start' : 'end'}">${r.value.toPrecision(3)}</text>`);
    if (r.target) parts.push(`<line x1="${x(r.target.value)}" x2="${x(r.target.value)}" y1="${y + 1}" y2="${y + ROW - 1}" stroke="#000" stroke-width="2"><title>target ${r.target.op} ${r.target.value}</title></line>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
