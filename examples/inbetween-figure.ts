// The in-between example's figure: AdamW and IVON side by side, each with its predictive mean,
// a ±2 std band, the training points, the true function and the gap shaded — so the one thing
// the example is about (the band opening up where there is no data) is visible at a glance.
// Hand-written SVG, no plotting dependency.
import type { Fitted, InbetweenResult } from './inbetween.js';

const PANEL_W = 470;
const TOP = 100;
const PH = 300;
const M = { left: 56, right: 18 };
const PW = PANEL_W - M.left - M.right;
const HEIGHT = TOP + PH + 74;
const X_RANGE: [number, number] = [-1.5, 1.5];
const Y_RANGE: [number, number] = [-2, 2];
const INK = '#1a202c';
const MUTED = '#718096';
const GRID = '#e2e8f0';
const GAP_FILL = '#f1ede4';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (v: number) => Number(v.toFixed(1)).toString();

interface Panel {
  title: string;
  color: string;
  fitted: Fitted;
  /** Draw the weight-uncertainty (epistemic) band as well. */
  epistemic: boolean;
}

function panel(index: number, p: Panel, r: InbetweenResult): string {
  const ox = index * PANEL_W + M.left;
  const x = (v: number) => ox + ((v - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0])) * PW;
  // Keep far-off values near the frame; the clip path hides the rest.
  const y = (v: number) => TOP + PH - ((Math.min(Y_RANGE[1] + 1, Math.max(Y_RANGE[0] - 1, v)) - Y_RANGE[0]) / (Y_RANGE[1] - Y_RANGE[0])) * PH;
  const clip = `clip${index}`;
  const { mean, std, epistemicStd } = p.fitted.prediction;
  const grid = r.grid;
  const band = (half: (j: number) => number) => {
    const upper: string[] = [];
    const lower: string[] = [];
    for (let j = 0; j < grid.length; j++) {
      upper.push(`${f(x(grid[j]))},${f(y(mean[j] + half(j)))}`);
      lower.unshift(`${f(x(grid[j]))},${f(y(mean[j] - half(j)))}`);
    }
    return upper.concat(lower).join(' ');
  };
  const parts: string[] = [`<clipPath id="${clip}"><rect x="${ox}" y="${TOP}" width="${PW}" height="${PH}"/></clipPath>`];
  // The gap, behind everything.
  parts.push(`<rect x="${f(x(-r.gap))}" y="${TOP}" width="${f(x(r.gap) - x(-r.gap))}" height="${PH}" fill="${GAP_FILL}"/>`);
  parts.push(`<text x="${f(x(0))}" y="${TOP + 16}" text-anchor="middle" font-size="11" fill="${MUTED}">no data</text>`);
  for (let v = X_RANGE[0]; v <= X_RANGE[1] + 1e-9; v += 0.5) {
    parts.push(`<line x1="${f(x(v))}" y1="${TOP}" x2="${f(x(v))}" y2="${TOP + PH}" stroke="${GRID}"/>`);
    parts.push(`<text x="${f(x(v))}" y="${TOP + PH + 16}" text-anchor="middle" font-size="11" fill="${MUTED}">${v}</text>`);
  }
  for (let v = Y_RANGE[0]; v <= Y_RANGE[1] + 1e-9; v += 1) {
    parts.push(`<line x1="${ox}" y1="${f(y(v))}" x2="${ox + PW}" y2="${f(y(v))}" stroke="${GRID}"/>`);
    parts.push(`<text x="${ox - 6}" y="${f(y(v) + 4)}" text-anchor="end" font-size="11" fill="${MUTED}">${v}</text>`);
  }
  const g = [`<g clip-path="url(#${clip})">`];
  g.push(`<polygon points="${band((j) => 2 * std[j])}" fill="${p.color}" fill-opacity="0.18"/>`);
  if (p.epistemic) g.push(`<polygon points="${band((j) => 2 * epistemicStd[j])}" fill="${p.color}" fill-opacity="0.32"/>`);
  const truth = Array.from(grid, (v) => `${f(x(v))},${f(y(Math.sin(3 * v)))}`).join(' ');
  g.push(`<polyline points="${truth}" fill="none" stroke="${MUTED}" stroke-width="1.2" stroke-dasharray="5 4"/>`);
  g.push(`<polyline points="${Array.from(grid, (v, j) => `${f(x(v))},${f(y(mean[j]))}`).join(' ')}" fill="none" stroke="${p.color}" stroke-width="2.2"/>`);
  r.train.x.forEach((v, i) => g.push(`<circle cx="${f(x(v))}" cy="${f(y(r.train.y[i]))}" r="2.4" fill="${INK}" fill-opacity="0.75"/>`));
  g.push('</g>');
  parts.push(g.join('\n'));
  parts.push(`<rect x="${ox}" y="${TOP}" width="${PW}" height="${PH}" fill="none" stroke="${INK}"/>`);
  parts.push(`<text x="${ox + PW / 2}" y="${TOP + PH + 36}" text-anchor="middle" font-size="12" fill="${INK}">input x</text>`);
  parts.push(`<text transform="translate(${index * PANEL_W + 18} ${TOP + PH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${INK}">target y</text>`);
  parts.push(`<text x="${ox + PW / 2}" y="${TOP - 22}" text-anchor="middle" font-size="14" font-weight="bold" fill="${p.color}">${esc(p.title)}</text>`);
  const s = p.fitted;
  parts.push(
    `<text x="${ox + PW / 2}" y="${TOP - 7}" text-anchor="middle" font-size="11.5" fill="${INK}">std in the gap ${s.stdGap.toFixed(3)} · on the data ${s.stdData.toFixed(3)} · ratio <tspan font-weight="bold">${s.ratio.toFixed(2)}×</tspan></text>`,
  );
  return parts.join('\n');
}

function legend(y: number, width: number): string {
  const items: string[] = [];
  let x = width / 2 - 365;
  const add = (mark: string, label: string, w: number) => {
    items.push(mark.replace(/X0/g, String(x)).replace(/X1/g, String(x + 22)).replace(/XM/g, String(x + 11)));
    items.push(`<text x="${x + 28}" y="${y + 4}" font-size="11.5" fill="${INK}">${esc(label)}</text>`);
    x += w;
  };
  add(`<line x1="X0" y1="${y}" x2="X1" y2="${y}" stroke="${INK}" stroke-width="2.2"/>`, 'predictive mean', 130);
  add(`<rect x="X0" y="${y - 6}" width="22" height="12" fill="${INK}" fill-opacity="0.15"/>`, 'mean ± 2 std (total)', 150);
  add(`<rect x="X0" y="${y - 6}" width="22" height="12" fill="${INK}" fill-opacity="0.35"/>`, '± 2 std from weight uncertainty (IVON)', 275);
  add(`<circle cx="XM" cy="${y}" r="2.6" fill="${INK}"/>`, 'training data', 110);
  add(`<line x1="X0" y1="${y}" x2="X1" y2="${y}" stroke="${MUTED}" stroke-dasharray="5 4"/>`, 'sin(3x)', 80);
  return items.join('\n');
}

export function inbetweenSvg(r: InbetweenResult): string {
  const width = 2 * PANEL_W;
  const panels: Panel[] = [
    { title: 'AdamW (point estimate)', color: '#c05621', fitted: r.adamw, epistemic: false },
    { title: 'IVON (Bayesian model average, 64 samples)', color: '#2b6cb0', fitted: r.ivon, epistemic: true },
  ];
  const caption = `Gaussian-NLL head (mean + softplus std), MLP 1-50-50-2 tanh, ${r.train.x.length} points, seed ${r.seed}, backend ${r.backend}. Statistics: mean std over |x| < 0.2 (gap) and 0.4 < |x| < 0.9 (data).`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold" fill="${INK}">In-between uncertainty: what each optimizer says where there is no data</text>`,
    legend(44, width),
    ...panels.map((p, i) => panel(i, p, r)),
    `<text x="${width / 2}" y="${HEIGHT - 10}" text-anchor="middle" font-size="11" fill="${MUTED}">${esc(caption)}</text>`,
    `</svg>`,
  ].join('\n');
}
