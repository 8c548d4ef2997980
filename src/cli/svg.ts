// Hand-written SVG figures for the main job's report: a reliability diagram and entropy
// histograms, side by side for AdamW and IVON. No plotting dependency: a chart here is a frame,
// ticks, labelled axes and rectangles, which is all these two figures need.
import type { ReliabilityBin } from '../metrics/classification.js';

const W = 360; // panel width
const H = 300; // panel height
const M = { left: 56, right: 14, top: 48, bottom: 50 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const COLORS = { primary: '#2b6cb0', secondary: '#dd6b20', grid: '#e2e8f0', ink: '#1a202c', muted: '#718096' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (v: number) => Number(v.toFixed(2)).toString();

interface Axes {
  xMin?: number;
  yMin?: number;
  xMax: number;
  yMax: number;
  xLabel: string;
  yLabel: string;
  title: string;
}

/** A panel frame with ticks and labels; returns the SVG and the data → pixel mapping. */
function frame(ox: number, axes: Axes): { svg: string; x: (v: number) => number; y: (v: number) => number } {
  const xMin = axes.xMin ?? 0;
  const yMin = axes.yMin ?? 0;
  const x = (v: number) => ox + M.left + ((v - xMin) / (axes.xMax - xMin)) * PW;
  const y = (v: number) => M.top + PH - ((v - yMin) / (axes.yMax - yMin)) * PH;
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const xv = xMin + ((axes.xMax - xMin) * i) / 5;
    const yv = yMin + ((axes.yMax - yMin) * i) / 5;
    parts.push(`<line x1="${f(x(xv))}" y1="${M.top}" x2="${f(x(xv))}" y2="${M.top + PH}" stroke="${COLORS.grid}"/>`);
    parts.push(`<line x1="${ox + M.left}" y1="${f(y(yv))}" x2="${ox + M.left + PW}" y2="${f(y(yv))}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${f(x(xv))}" y="${M.top + PH + 16}" text-anchor="middle" font-size="11" fill="${COLORS.muted}">${f(xv)}</text>`);
    parts.push(`<text x="${ox + M.left - 6}" y="${f(y(yv) + 4)}" text-anchor="end" font-size="11" fill="${COLORS.muted}">${f(yv)}</text>`);
  }
  parts.push(`<rect x="${ox + M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="${COLORS.ink}"/>`);
  parts.push(`<text x="${ox + M.left + PW / 2}" y="${H - 12}" text-anchor="middle" font-size="12" fill="${COLORS.ink}">${esc(axes.xLabel)}</text>`);
  parts.push(`<text transform="translate(${ox + 16} ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${COLORS.ink}">${esc(axes.yLabel)}</text>`);
  parts.push(`<text x="${ox + M.left + PW / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold" fill="${COLORS.ink}">${esc(axes.title)}</text>`);
  return { svg: parts.join('\n'), x, y };
}

function document(panels: string[], caption: string): string {
  const width = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 24}" viewBox="0 0 ${width} ${H + 24}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    `<text x="${width / 2}" y="${H + 16}" text-anchor="middle" font-size="11" fill="${COLORS.muted}">${esc(caption)}</text>`,
    `</svg>`,
  ].join('\n');
}

export interface ReliabilityPanel {
  title: string;
  bins: ReliabilityBin[];
}

/** Reliability diagram: per confidence bin, accuracy (bar) vs mean confidence (tick); diagonal = perfect. */
export function reliabilityDiagram(panels: ReliabilityPanel[], caption: string): string {
  const out = panels.map((p, i) => {
    const fr = frame(i * W, { xMax: 1, yMax: 1, xLabel: 'Confidence (max predicted probability)', yLabel: 'Accuracy', title: p.title });
    const parts = [fr.svg];
    parts.push(`<line x1="${fr.x(0)}" y1="${fr.y(0)}" x2="${fr.x(1)}" y2="${fr.y(1)}" stroke="${COLORS.muted}" stroke-dasharray="4 3"/>`);
    for (const b of p.bins) {
      if (b.count === 0) continue;
      const acc = b.correct / b.count;
      const conf = b.confidenceSum / b.count;
      const x0 = fr.x(b.lower) + 1;
      const bw = fr.x(b.upper) - fr.x(b.lower) - 2;
      parts.push(`<rect x="${f(x0)}" y="${f(fr.y(acc))}" width="${f(bw)}" height="${f(fr.y(0) - fr.y(acc))}" fill="${COLORS.primary}" fill-opacity="0.75"><title>${b.count} examples, accuracy ${acc.toFixed(3)}, confidence ${conf.toFixed(3)}</title></rect>`);
      parts.push(`<line x1="${f(x0)}" y1="${f(fr.y(conf))}" x2="${f(x0 + bw)}" y2="${f(fr.y(conf))}" stroke="${COLORS.secondary}" stroke-width="2"/>`);
      const top = Math.min(fr.y(acc), fr.y(conf));
      parts.push(`<text x="${f(x0 + bw / 2)}" y="${f(Math.max(M.top + 8, top - 3))}" text-anchor="middle" font-size="8" fill="${COLORS.muted}">${b.count}</text>`);
    }
    // Legend above the plot area, where no bar can cover it.
    const lx = i * W + M.left;
    const ly = M.top - 12;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS.primary}" fill-opacity="0.75"/><text x="${lx + 14}" y="${ly}" font-size="11">accuracy in bin (n above)</text>`);
    parts.push(`<line x1="${lx + 160}" y1="${ly - 4}" x2="${lx + 170}" y2="${ly - 4}" stroke="${COLORS.secondary}" stroke-width="2"/><text x="${lx + 174}" y="${ly}" font-size="11">mean confidence</text>`);
    return parts.join('\n');
  });
  return document(out, caption);
}

export interface HistogramPanel {
  title: string;
  /** Named samples; each is drawn as its own normalised histogram. */
  series: { label: string; values: ArrayLike<number> }[];
}

/** Overlaid histograms (fraction of each series per bin) on a shared [0, xMax] range. */
export function histogramFigure(panels: HistogramPanel[], xMax: number, xLabel: string, caption: string, bins = 20): string {
  const fractions = panels.map((p) =>
    p.series.map((s) => {
      const h = new Float64Array(bins);
      for (let i = 0; i < s.values.length; i++) h[Math.min(bins - 1, Math.max(0, Math.floor((s.values[i] / xMax) * bins)))] += 1 / s.values.length;
      return h;
    }),
  );
  const yMax = Math.min(1, Math.ceil(Math.max(...fractions.flat().flatMap((h) => Array.from(h))) * 10) / 10 || 1);
  const colors = [COLORS.primary, COLORS.secondary];
  const out = panels.map((p, i) => {
    const fr = frame(i * W, { xMax, yMax, xLabel, yLabel: 'Fraction of examples', title: p.title });
    const parts = [fr.svg];
    p.series.forEach((s, k) => {
      const color = colors[k % colors.length];
      fractions[i][k].forEach((v, b) => {
        if (v === 0) return;
        const x0 = fr.x((b * xMax) / bins);
        const x1 = fr.x(((b + 1) * xMax) / bins);
        parts.push(`<rect x="${f(x0)}" y="${f(fr.y(v))}" width="${f(x1 - x0)}" height="${f(fr.y(0) - fr.y(v))}" fill="${color}" fill-opacity="0.45" stroke="${color}"/>`);
      });
      const ly = M.top + 14 + 16 * k;
      const lx = i * W + M.left + PW - 142;
      parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}" fill-opacity="0.6"/><text x="${lx + 14}" y="${ly}" font-size="11">${esc(s.label)} (n=${s.values.length})</text>`);
    });
    return parts.join('\n');
  });
  return document(out, caption);
}

export interface BandSeries {
  label: string;
  x: ArrayLike<number>;
  mean: ArrayLike<number>;
  std: ArrayLike<number>;
}

/** Regression panels: mean ± 2 std as a band, plus the training points. */
export function bandFigure(
  panels: { title: string; band: BandSeries; points: { x: ArrayLike<number>; y: ArrayLike<number> } }[],
  range: { x: [number, number]; y: [number, number] },
  caption: string,
): string {
  const [x0, x1] = range.x;
  const [y0, y1] = range.y;
  const out = panels.map((p, i) => {
    const fr = frame(i * W, { xMin: x0, xMax: x1, yMin: y0, yMax: y1, xLabel: 'x', yLabel: 'y', title: p.title });
    const px = fr.x;
    const py = (v: number) => fr.y(Math.min(y1, Math.max(y0, v)));
    const parts = [fr.svg];
    const { x, mean, std } = p.band;
    const upper: string[] = [];
    const lower: string[] = [];
    const line: string[] = [];
    for (let j = 0; j < x.length; j++) {
      upper.push(`${f(px(x[j]))},${f(py(mean[j] + 2 * std[j]))}`);
      lower.unshift(`${f(px(x[j]))},${f(py(mean[j] - 2 * std[j]))}`);
      line.push(`${f(px(x[j]))},${f(py(mean[j]))}`);
    }
    parts.push(`<polygon points="${upper.concat(lower).join(' ')}" fill="${COLORS.primary}" fill-opacity="0.2" stroke="none"/>`);
    parts.push(`<polyline points="${line.join(' ')}" fill="none" stroke="${COLORS.primary}" stroke-width="2"/>`);
    for (let j = 0; j < p.points.x.length; j++) {
      parts.push(`<circle cx="${f(px(p.points.x[j]))}" cy="${f(py(p.points.y[j]))}" r="2" fill="${COLORS.secondary}"/>`);
    }
    const lx = i * W + M.left + 8;
    parts.push(`<rect x="${lx}" y="${M.top + 8}" width="10" height="10" fill="${COLORS.primary}" fill-opacity="0.3"/><text x="${lx + 14}" y="${M.top + 17}" font-size="11">${esc(p.band.label)}</text>`);
    parts.push(`<circle cx="${lx + 5}" cy="${M.top + 27}" r="3" fill="${COLORS.secondary}"/><text x="${lx + 14}" y="${M.top + 31}" font-size="11">training data</text>`);
    return parts.join('\n');
  });
  return document(out, caption);
}

export interface LinePanel {
  title: string;
  series: { label: string; x: ArrayLike<number>; y: ArrayLike<number> }[];
}

/** Line charts sharing one y range, one panel per entry (e.g. an estimate beside the truth over epochs). */
export function lineFigure(panels: LinePanel[], xLabel: string, yLabel: string, caption: string): string {
  const xs = panels.flatMap((p) => p.series.flatMap((s) => Array.from(s.x)));
  const ys = panels.flatMap((p) => p.series.flatMap((s) => Array.from(s.y))).filter(Number.isFinite);
  const xMax = Math.max(1, ...xs);
  const yMax = Math.ceil(Math.max(1e-3, ...ys) * 20) / 20;
  const colors = [COLORS.primary, COLORS.secondary];
  const out = panels.map((p, i) => {
    const fr = frame(i * W, { xMax, yMax, xLabel, yLabel, title: p.title });
    const parts = [fr.svg];
    p.series.forEach((s, k) => {
      const color = colors[k % colors.length];
      const points = Array.from(s.x, (x, j) => `${f(fr.x(x))},${f(fr.y(Math.min(yMax, s.y[j])))}`);
      parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
      Array.from(s.x).forEach((x, j) => parts.push(`<circle cx="${f(fr.x(x))}" cy="${f(fr.y(Math.min(yMax, s.y[j])))}" r="2.5" fill="${color}"/>`));
      const lx = i * W + M.left + 8;
      const ly = M.top + 14 + 16 * k;
      parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 12}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/><text x="${lx + 16}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
    });
    return parts.join('\n');
  });
  return document(out, caption);
}

export interface ImageTile {
  /** side × side intensities in [0, 1]. */
  pixels: ArrayLike<number>;
  label: string;
  /** Drawn with a red frame (e.g. a flipped label). */
  highlight: boolean;
}

/** Rows of grayscale image tiles with a caption under each (e.g. the most and least sensitive digits), wrapped at `perLine`. */
export function imageGrid(rows: { title: string; tiles: ImageTile[] }[], side: number, caption: string, perLine = 12): string {
  const cell = Math.max(2, Math.round(48 / side));
  const tileW = side * cell + 14;
  const lineH = side * cell + 24;
  const width = Math.max(480, perLine * tileW + 20);
  const parts: string[] = [];
  let y = 20;
  for (const r of rows) {
    parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold" fill="${COLORS.ink}">${esc(r.title)}</text>`);
    r.tiles.forEach((t, ti) => {
      const x0 = 10 + (ti % perLine) * tileW;
      const top = y + 8 + Math.floor(ti / perLine) * lineH;
      for (let i = 0; i < side; i++) {
        for (let j = 0; j < side; j++) {
          const v = Math.round(255 * (1 - Math.min(1, Math.max(0, t.pixels[i * side + j]))));
          parts.push(`<rect x="${x0 + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${v},${v},${v})"/>`);
        }
      }
      parts.push(`<rect x="${x0 - 1}" y="${top - 1}" width="${side * cell + 2}" height="${side * cell + 2}" fill="none" stroke="${t.highlight ? '#e53e3e' : COLORS.grid}" stroke-width="${t.highlight ? 2 : 1}"/>`);
      parts.push(`<text x="${x0 + (side * cell) / 2}" y="${top + side * cell + 13}" text-anchor="middle" font-size="10" fill="${t.highlight ? '#e53e3e' : COLORS.muted}">${esc(t.label)}</text>`);
    });
    y += 8 + Math.ceil(r.tiles.length / perLine) * lineH + 20;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="${COLORS.muted}">${esc(caption)}</text>`,
    `</svg>`,
  ].join('\n');
}
