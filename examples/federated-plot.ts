// One SVG for the federated example: accuracy, NLL and ECE per round, one line per method (mean over
// seeds) with a ±1 std band. Hand-written like src/cli/svg.ts: a frame, ticks, lines, a legend.
import type { MethodRun } from './federated-digits-run.js';

const W = 340;
const H = 260;
const M = { left: 52, right: 12, top: 36, bottom: 44 };
const COLORS: Record<string, string> = { 'federated-ivon': '#2b6cb0', 'federated-ivon-prior': '#805ad5', 'fedavg-adamw': '#dd6b20', 'centralised-ivon': '#38a169' };
const f = (v: number) => Number(v.toFixed(2)).toString();

export function roundsFigure(runs: readonly MethodRun[], caption: string): string {
  const metrics = [
    ['accuracy', (s: MethodRun['scores'][number]) => s.accuracy],
    ['NLL', (s: MethodRun['scores'][number]) => s.nll],
    ['ECE', (s: MethodRun['scores'][number]) => s.ece],
  ] as const;
  const methods = [...new Set(runs.map((r) => r.method))];
  const rounds = Math.max(...runs.map((r) => r.scores.length));
  const panels = metrics.map(([title, get], i) => {
    const series = methods.map((method) => {
      const mine = runs.filter((r) => r.method === method);
      const stats = Array.from({ length: rounds }, (_, j) => {
        const v = mine.map((r) => get(r.scores[j]));
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
        return { mean, std };
      });
      return { method, stats };
    });
    const all = series.flatMap((s) => s.stats.flatMap((p) => [p.mean - p.std, p.mean + p.std]));
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const pad = (hi - lo) * 0.05 || 0.01;
    const [y0, y1] = [lo - pad, hi + pad];
    const ox = i * W;
    const x = (r: number) => ox + M.left + ((r - 1) / Math.max(1, rounds - 1)) * (W - M.left - M.right);
    const y = (v: number) => M.top + (1 - (v - y0) / (y1 - y0)) * (H - M.top - M.bottom);
    const parts = [`<text x="${ox + W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${title}</text>`];
    parts.push(`<rect x="${ox + M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#a0aec0"/>`);
    for (let t = 0; t <= 4; t++) {
      const v = y0 + ((y1 - y0) * t) / 4;
      parts.push(`<text x="${ox + M.left - 4}" y="${f(y(v) + 4)}" text-anchor="end" font-size="10">${v.toFixed(3)}</text>`);
    }
    const every = Math.ceil(rounds / 10);
    for (let r = 1; r <= rounds; r += every) parts.push(`<text x="${f(x(r))}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${r}</text>`);
    parts.push(`<text x="${ox + W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">round</text>`);
    for (const s of series) {
      const color = COLORS[s.method] ?? '#4a5568';
      const upper = s.stats.map((p, j) => `${f(x(j + 1))},${f(y(p.mean + p.std))}`);
      const lower = s.stats.map((p, j) => `${f(x(j + 1))},${f(y(p.mean - p.std))}`).reverse();
      parts.push(`<polygon points="${upper.concat(lower).join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
      parts.push(`<polyline points="${s.stats.map((p, j) => `${f(x(j + 1))},${f(y(p.mean))}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    return parts.join('\n');
  });
  const legend = methods.map((m, i) => `<rect x="${20 + i * 170}" y="${H + 6}" width="12" height="12" fill="${COLORS[m] ?? '#4a5568'}"/><text x="${36 + i * 170}" y="${H + 16}" font-size="12">${m}</text>`);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${H + 48}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    ...legend,
    `<text x="20" y="${H + 40}" font-size="11" fill="#4a5568">${esc(caption)}</text>`,
    '</svg>',
  ].join('\n');
}
