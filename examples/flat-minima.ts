// The IVON authors' 2-D picture: a logistic regression with two weights, so its whole loss
// landscape fits on a page. AdamW and IVON start from the same point; the figure shows the
// landscape (training NLL as a heat map), both paths, and IVON's posterior as its 2σ ellipse. The
// ellipse is narrow across the valley (high curvature) and long along it (flat): σ_j² =
// 1/(ess·(h_j + δ)) with h IVON's running curvature estimate, which the test compares with the
// true Hessian diagonal at IVON's mean. Full-batch steps on the optimizer API directly.
// Run: npx tsx examples/flat-minima.ts [--out out/flat-minima] [--seed 0]
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AdamW, IVON, createRuntime, type Runtime } from '../src/index.js';
import { Rng } from '../src/nn/random.js';

export interface Toy {
  /** rows × 2 inputs, labels ±1. */
  x: Float64Array;
  y: Float64Array;
  rows: number;
}

/** Two overlapping clusters; the second input is scaled down, so the loss is flat along w₂. */
export function toyData(seed: number, rows = 80): Toy {
  const rng = new Rng(seed);
  const x = new Float64Array(rows * 2);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    y[i] = i % 2 === 0 ? 1 : -1;
    x[2 * i] = y[i] * 0.8 + rng.normal();
    x[2 * i + 1] = 0.25 * (y[i] * 0.8 + rng.normal());
  }
  return { x, y, rows };
}

/** Mean logistic loss log(1 + exp(−y·w·x)) and its gradient. */
export function lossAndGrad(d: Toy, w0: number, w1: number, grad?: Float64Array): number {
  let loss = 0;
  let g0 = 0;
  let g1 = 0;
  for (let i = 0; i < d.rows; i++) {
    const margin = d.y[i] * (w0 * d.x[2 * i] + w1 * d.x[2 * i + 1]);
    loss += margin > 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin));
    const s = -d.y[i] / (1 + Math.exp(margin)); // ∂loss_i/∂(w·x)
    g0 += s * d.x[2 * i];
    g1 += s * d.x[2 * i + 1];
  }
  if (grad) {
    grad[0] = g0 / d.rows;
    grad[1] = g1 / d.rows;
  }
  return loss / d.rows;
}

/** The Hessian's diagonal at w: mean p(1 − p)·x_j². */
export function hessianDiagonal(d: Toy, w0: number, w1: number): [number, number] {
  let h0 = 0;
  let h1 = 0;
  for (let i = 0; i < d.rows; i++) {
    const p = 1 / (1 + Math.exp(-(w0 * d.x[2 * i] + w1 * d.x[2 * i + 1])));
    h0 += p * (1 - p) * d.x[2 * i] ** 2;
    h1 += p * (1 - p) * d.x[2 * i + 1] ** 2;
  }
  return [h0 / d.rows, h1 / d.rows];
}

export interface FlatMinima {
  data: Toy;
  start: [number, number];
  paths: { adamw: [number, number][]; ivon: [number, number][] };
  ivon: { mean: [number, number]; sigma: [number, number]; hess: [number, number]; ess: number; weightDecay: number };
}

export const STEPS = 400;

async function run(rt: Runtime, opt: AdamW | IVON, d: Toy, samples: number): Promise<[number, number][]> {
  const path: [number, number][] = [[opt.param('w')[0], opt.param('w')[1]]];
  const grad = new Float64Array(2);
  for (let t = 0; t < STEPS; t++) {
    for (let s = 0; s < samples; s++) {
      await opt.sampledParams((ctx) => {
        const w = ctx.theta('w');
        lossAndGrad(d, w[0], w[1], grad);
        ctx.grad('w').set(grad);
      });
    }
    await opt.step();
    path.push([opt.param('w')[0], opt.param('w')[1]]);
  }
  void rt;
  return path;
}

export async function flatMinima(rt: Runtime, seed = 0): Promise<FlatMinima> {
  const data = toyData(seed);
  const start: [number, number] = [-2.5, 3.5];
  const params = { w: Float32Array.from(start) };
  const shapes = { w: [2] };
  const adamw = new AdamW(rt, { params, shapes, lr: 0.05, weightDecay: 0 });
  // ess = rows: the posterior of this data set; β₂ 0.99 so h tracks the curvature within the run.
  const ess = data.rows;
  const weightDecay = 1e-2;
  const ivon = new IVON(rt, { params, shapes, lr: 0.1, ess, hessInit: 0.5, beta2: 0.99, weightDecay, mcSamples: 8, seed });
  const paths = { adamw: await run(rt, adamw, data, 1), ivon: await run(rt, ivon, data, 8) };
  const state = await ivon.read('w');
  adamw.dispose();
  ivon.dispose();
  return {
    data,
    start,
    paths,
    ivon: { mean: [state.mean[0], state.mean[1]], sigma: [state.sigma[0], state.sigma[1]], hess: [state.hess[0], state.hess[1]], ess, weightDecay },
  };
}

const f = (v: number) => Number(v.toFixed(2)).toString();

/** Heat map of the loss over the window, both paths, IVON's 2σ ellipse. */
export function flatMinimaSvg(r: FlatMinima): string {
  const size = 460;
  const m = { left: 56, top: 40, right: 150, bottom: 50 };
  const [x0, x1, y0, y1] = [-3, 4, -6, 6];
  const px = (v: number) => m.left + ((v - x0) / (x1 - x0)) * size;
  const py = (v: number) => m.top + size - ((v - y0) / (y1 - y0)) * size;
  const cells = 46;
  const parts: string[] = [];
  const losses: number[] = [];
  for (let i = 0; i < cells; i++) for (let j = 0; j < cells; j++) losses.push(lossAndGrad(r.data, x0 + ((j + 0.5) * (x1 - x0)) / cells, y0 + ((i + 0.5) * (y1 - y0)) / cells));
  const lo = Math.log(Math.min(...losses));
  const hi = Math.log(Math.max(...losses));
  for (let i = 0; i < cells; i++) {
    for (let j = 0; j < cells; j++) {
      const t = (Math.log(losses[i * cells + j]) - lo) / (hi - lo);
      const c = Math.round(255 - 150 * (1 - t));
      const w = size / cells;
      parts.push(`<rect x="${f(m.left + j * w)}" y="${f(m.top + size - (i + 1) * w)}" width="${f(w + 0.5)}" height="${f(w + 0.5)}" fill="rgb(${c},${c},255)"/>`);
    }
  }
  const line = (path: [number, number][], color: string) => `<polyline points="${path.map(([a, b]) => `${f(px(a))},${f(py(b))}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`;
  parts.push(line(r.paths.adamw, '#dd6b20'), line(r.paths.ivon, '#2b6cb0'));
  const [mx, my] = r.ivon.mean;
  const [sx, sy] = r.ivon.sigma;
  parts.push(`<ellipse cx="${f(px(mx))}" cy="${f(py(my))}" rx="${f((2 * sx * size) / (x1 - x0))}" ry="${f((2 * sy * size) / (y1 - y0))}" fill="#2b6cb0" fill-opacity="0.15" stroke="#2b6cb0" stroke-dasharray="4 3"/>`);
  parts.push(`<circle cx="${f(px(r.start[0]))}" cy="${f(py(r.start[1]))}" r="4" fill="#1a202c"/>`);
  const end = r.paths.adamw[r.paths.adamw.length - 1];
  parts.push(`<circle cx="${f(px(end[0]))}" cy="${f(py(end[1]))}" r="4" fill="#dd6b20"/>`, `<circle cx="${f(px(mx))}" cy="${f(py(my))}" r="4" fill="#2b6cb0"/>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${size}" height="${size}" fill="none" stroke="#1a202c"/>`);
  for (let k = 0; k <= 7; k++) parts.push(`<text x="${f(px(x0 + k))}" y="${m.top + size + 16}" text-anchor="middle" font-size="11" fill="#718096">${x0 + k}</text>`);
  for (let k = 0; k <= 6; k++) parts.push(`<text x="${m.left - 6}" y="${f(py(y0 + 2 * k) + 4)}" text-anchor="end" font-size="11" fill="#718096">${y0 + 2 * k}</text>`);
  parts.push(`<text x="${m.left + size / 2}" y="${m.top + size + 36}" text-anchor="middle" font-size="12">w₁</text>`);
  parts.push(`<text transform="translate(18 ${m.top + size / 2}) rotate(-90)" text-anchor="middle" font-size="12">w₂</text>`);
  parts.push(`<text x="${m.left + size / 2}" y="24" text-anchor="middle" font-size="13" font-weight="bold">Logistic regression loss landscape (darker = lower NLL)</text>`);
  const lx = m.left + size + 14;
  parts.push(`<line x1="${lx}" y1="${m.top + 10}" x2="${lx + 16}" y2="${m.top + 10}" stroke="#dd6b20" stroke-width="2"/><text x="${lx + 20}" y="${m.top + 14}" font-size="11">AdamW path</text>`);
  parts.push(`<line x1="${lx}" y1="${m.top + 30}" x2="${lx + 16}" y2="${m.top + 30}" stroke="#2b6cb0" stroke-width="2"/><text x="${lx + 20}" y="${m.top + 34}" font-size="11">IVON mean path</text>`);
  parts.push(`<ellipse cx="${lx + 8}" cy="${m.top + 50}" rx="8" ry="5" fill="#2b6cb0" fill-opacity="0.15" stroke="#2b6cb0" stroke-dasharray="4 3"/><text x="${lx + 20}" y="${m.top + 54}" font-size="11">IVON posterior 2σ</text>`);
  parts.push(`<circle cx="${lx + 8}" cy="${m.top + 70}" r="4" fill="#1a202c"/><text x="${lx + 20}" y="${m.top + 74}" font-size="11">shared start</text>`);
  const width = m.left + size + m.right;
  const height = m.top + size + m.bottom;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    `</svg>`,
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string', default: 'out/flat-minima' }, seed: { type: 'string', default: '0' } } });
  const rt = await createRuntime({ backend: 'js' });
  try {
    const r = await flatMinima(rt, Number(values.seed));
    const [h0, h1] = hessianDiagonal(r.data, ...r.ivon.mean);
    console.log(`IVON mean (${r.ivon.mean.map((v) => v.toFixed(3)).join(', ')}), σ (${r.ivon.sigma.map((v) => v.toFixed(3)).join(', ')}); ` +
      `h (${r.ivon.hess.map((v) => v.toFixed(4)).join(', ')}) vs the true Hessian diagonal (${h0.toFixed(4)}, ${h1.toFixed(4)}); ` +
      `AdamW ends at (${r.paths.adamw[STEPS].map((v) => v.toFixed(3)).join(', ')})`);
    mkdirSync(values.out, { recursive: true });
    const path = resolve(values.out, 'flat-minima.svg');
    writeFileSync(path, flatMinimaSvg(r));
    console.log(`wrote ${path}`);
  } finally {
    await rt.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
