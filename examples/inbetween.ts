// In-between uncertainty (as in the IVON authors' demo): 1-D regression with a gap in the data.
// A Gaussian-NLL head (mean + softplus std) trained with AdamW gives one confident curve; IVON's
// posterior samples disagree where there is no data, so its predictive std grows in the gap.
// Run: npx tsx examples/inbetween.ts [--out DIR] [--seed N] [--backend wasm|js]  → DIR/inbetween.svg
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AdamW,
  IVON,
  Rng,
  createNnOps,
  createRuntime,
  fit,
  mlp,
  predictGaussianAtMean,
  predictGaussianBma,
  tanh,
  type FitOptions,
  type GaussianPrediction,
  type Network,
  type Runtime,
  type TrainableOptimizer,
} from 'ivon-edge';
import { inbetweenSvg } from './inbetween-figure.js';

/** The data lies in [−1, −GAP] ∪ [GAP, 1]; nothing in between. */
export const GAP = 0.3;
/** Where the summary statistics are taken (well inside the gap, well inside the data). */
export const inGap = (x: number): boolean => Math.abs(x) < 0.2;
export const onData = (x: number): boolean => Math.abs(x) > 0.4 && Math.abs(x) < 0.9;

/**
 * The settings, and why. Start: IVON.md §8's UCI row (Gaussian NLL: lr 0.02, ess 6000, h₀ 0.5,
 * β₂ 0.999, δ 5e-3, bs 8, 5 samples). Two changes matter here:
 * - β₂ 0.99: the NLL's curvature grows like 1/std² while the std head shrinks towards the noise
 *   level; with β₂ 0.999 h lags far behind, the Newton-like steps g/h overshoot and a few samples
 *   blow the loss up (the "absurd std" runs). With 0.99 h tracks the curvature, and weights the
 *   data do not pin down keep a small h, hence a wide σ — which is what widens the gap.
 * - clipRadius 1: bounds each coordinate's move to lr·(h₀+δ) per step, so one sample with a tiny
 *   std and a large residual (gradient ~1/std²) cannot throw the weights away.
 * ess 5000 (≈ 60 × N for N = 80) keeps the posterior narrow on the data; lr 0.05, δ 1e-3.
 */
export const SETTINGS = {
  perCluster: 40,
  noise: 0.05,
  hidden: [50, 50],
  epochs: 200,
  batchSize: 8,
  warmupSteps: 50,
  bmaSamples: 64,
  adamw: { lr: 3e-3, weightDecay: 1e-4 },
  ivon: { lr: 0.05, ess: 5000, hessInit: 0.5, beta2: 0.99, weightDecay: 1e-3, clipRadius: 1, mcSamples: 2 },
} as const;

export interface Fitted {
  /** Predictive mean / std on the grid (IVON: BMA mixture; AdamW: its one Gaussian). */
  prediction: GaussianPrediction;
  stdGap: number;
  stdData: number;
  /** stdGap / stdData. */
  ratio: number;
  /** RMSE of the predictive mean on the training points. */
  rmse: number;
  ms: number;
}

export interface InbetweenResult {
  seed: number;
  /** Half-width of the gap (GAP). */
  gap: number;
  backend: string;
  train: { x: Float32Array; y: Float32Array };
  grid: Float32Array;
  adamw: Fitted;
  ivon: Fitted;
}

/** Two clusters x ∈ [−1, −0.3] ∪ [0.3, 1], y = sin(3x) + noise·N(0, 1), seeded. */
export function inbetweenData(seed: number, perCluster: number = SETTINGS.perCluster, noise: number = SETTINGS.noise): { x: Float32Array; y: Float32Array } {
  if (!Number.isInteger(perCluster) || perCluster < 1) throw new Error(`inbetweenData: perCluster must be a positive integer, got ${perCluster}`);
  const rng = new Rng(seed);
  const x = new Float32Array(2 * perCluster);
  const y = new Float32Array(2 * perCluster);
  const width = 1 - GAP;
  for (let i = 0; i < x.length; i++) {
    x[i] = i < perCluster ? -1 + width * rng.uniform() : GAP + width * rng.uniform();
    y[i] = Math.sin(3 * x[i]) + noise * rng.normal();
  }
  return { x, y };
}

function meanWhere(grid: Float32Array, values: Float64Array, keep: (x: number) => boolean): number {
  let sum = 0;
  let count = 0;
  grid.forEach((x, i) => {
    if (keep(x)) {
      sum += values[i];
      count++;
    }
  });
  return sum / count;
}

/** Predicts on the grid and the training points at once (one set of posterior samples for both). */
async function evaluate(net: Network, opt: TrainableOptimizer, bma: boolean, grid: Float32Array, train: { x: Float32Array; y: Float32Array }, ms: number): Promise<Fitted> {
  const x = new Float32Array(grid.length + train.x.length);
  x.set(grid);
  x.set(train.x, grid.length);
  const all = bma ? await predictGaussianBma(net, opt, x, x.length, { samples: SETTINGS.bmaSamples }) : predictGaussianAtMean(net, opt, x, x.length);
  const g = grid.length;
  const prediction: GaussianPrediction = { rows: g, mean: all.mean.slice(0, g), std: all.std.slice(0, g), epistemicStd: all.epistemicStd.slice(0, g) };
  let se = 0;
  train.y.forEach((y, i) => (se += (all.mean[g + i] - y) ** 2));
  const stdGap = meanWhere(grid, prediction.std, inGap);
  const stdData = meanWhere(grid, prediction.std, onData);
  return { prediction, stdGap, stdData, ratio: stdGap / stdData, rmse: Math.sqrt(se / train.y.length), ms };
}

/** Trains AdamW and IVON from the same initial weights and evaluates both on a grid over [−1.5, 1.5]. */
export async function runInbetween(rt: Runtime, seed = 0): Promise<InbetweenResult> {
  const train = inbetweenData(seed);
  const model = mlp([1, ...SETTINGS.hidden, 2], tanh);
  const grid = Float32Array.from({ length: 121 }, (_, i) => -1.5 + (3 * i) / 120);
  const net = model.bind(createNnOps(rt), grid.length + train.x.length);
  const init = model.init(seed);
  const shapes = model.shapes();
  const data = { x: train.x, targets: train.y, rows: train.x.length };
  const common: Omit<FitOptions, 'lr'> = { loss: 'gaussian-nll', epochs: SETTINGS.epochs, batchSize: SETTINGS.batchSize, warmupSteps: SETTINGS.warmupSteps, seed };

  let t0 = performance.now();
  const adamw = new AdamW(rt, { params: init, shapes, ...SETTINGS.adamw });
  await fit(net, adamw, data, { ...common, lr: SETTINGS.adamw.lr });
  const adamwFitted = await evaluate(net, adamw, false, grid, train, performance.now() - t0);

  t0 = performance.now();
  const ivon = new IVON(rt, { params: init, shapes, ...SETTINGS.ivon, seed });
  await fit(net, ivon, data, { ...common, lr: SETTINGS.ivon.lr });
  const ivonFitted = await evaluate(net, ivon, true, grid, train, performance.now() - t0);
  return { seed, gap: GAP, backend: rt.backend, train, grid, adamw: adamwFitted, ivon: ivonFitted };
}

export function summary(r: InbetweenResult): string {
  const row = (name: string, f: Fitted) =>
    `${name.padEnd(16)} ${f.stdGap.toFixed(3).padStart(10)} ${f.stdData.toFixed(3).padStart(10)} ${f.ratio.toFixed(2).padStart(6)} ${f.rmse.toFixed(3).padStart(8)} ${(f.ms / 1000).toFixed(1).padStart(6)}s`;
  return [
    `in-between uncertainty: ${r.train.x.length} points, gap (−${GAP}, ${GAP}), seed ${r.seed}, backend ${r.backend}`,
    `${'optimizer'.padEnd(16)} ${'std in gap'.padStart(10)} ${'on data'.padStart(10)} ${'ratio'.padStart(6)} ${'RMSE'.padStart(8)} ${'time'.padStart(7)}`,
    row('AdamW', r.adamw),
    row(`IVON BMA (${SETTINGS.bmaSamples})`, r.ivon),
  ].join('\n');
}

interface Args {
  out: string;
  seed: number;
  backend: 'wasm' | 'js';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: 'out/inbetween', seed: 0, backend: 'wasm' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--out' && value) args.out = value;
    else if (flag === '--seed' && value && Number.isInteger(Number(value))) args.seed = Number(value);
    else if (flag === '--backend' && (value === 'wasm' || value === 'js')) args.backend = value;
    else throw new Error(`inbetween: cannot use '${flag}${value === undefined ? '' : ` ${value}`}'. Usage: npx tsx examples/inbetween.ts [--out DIR] [--seed INTEGER] [--backend wasm|js]`);
    i++;
  }
  return args;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = parseArgs(process.argv.slice(2));
  // No worker pool: the model is tiny, and a named backend starts without workers.
  const rt = await createRuntime({ backend: args.backend === 'wasm' ? ['wasm', 'js'] : 'js', workers: 0 });
  const r = await runInbetween(rt, args.seed);
  await rt.dispose();
  mkdirSync(args.out, { recursive: true });
  const path = resolve(args.out, 'inbetween.svg');
  writeFileSync(path, inbetweenSvg(r));
  console.log(summary(r));
  console.log(`wrote ${path}`);
}
