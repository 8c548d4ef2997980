// In-between uncertainty (as in the IVON authors' demo): 1-D regression with a gap in the data.
// A Gaussian-NLL head (mean + softplus std) trained with AdamW gives one confident curve; IVON's
// posterior samples disagree where there is no data, so its predictive std grows in the gap.
// Run: npx tsx examples/inbetween.ts [outDir]   → writes inbetween.svg
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AdamW, IVON, createRuntime, type Runtime } from '../src/index.js';
import { bandFigure } from '../src/cli/svg.js';
import { fit } from '../src/nn/fit.js';
import { tanh } from '../src/nn/layers.js';
import { mlp } from '../src/nn/network.js';
import { predictGaussianAtMean, predictGaussianBma, type GaussianPrediction } from '../src/nn/predict.js';
import { Rng } from '../src/nn/random.js';
import { createNnOps } from '../src/nn/runtime-ops.js';

export interface InbetweenResult {
  train: { x: Float32Array; y: Float32Array };
  grid: Float32Array;
  adamw: GaussianPrediction;
  ivon: GaussianPrediction;
  /** IVON's mean predictive std over grid points inside the gap / on the data. */
  ivonStdGap: number;
  ivonStdData: number;
  adamwStdGap: number;
  adamwStdData: number;
}

/** Two clusters x ∈ [−1, −0.3] ∪ [0.3, 1], y = sin(3x) + noise; the gap is (−0.3, 0.3). */
export function inbetweenData(seed: number, perCluster = 40): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(2 * perCluster);
  const y = new Float32Array(2 * perCluster);
  for (let i = 0; i < x.length; i++) {
    const left = i < perCluster;
    x[i] = left ? -1 + 0.7 * rng.uniform() : 0.3 + 0.7 * rng.uniform();
    y[i] = Math.sin(3 * x[i]) + 0.05 * rng.normal();
  }
  return { x, y };
}

const inGap = (x: number) => Math.abs(x) < 0.2;
const onData = (x: number) => Math.abs(x) > 0.4 && Math.abs(x) < 0.9;

function meanWhere(grid: Float32Array, std: Float64Array, keep: (x: number) => boolean): number {
  let s = 0;
  let n = 0;
  grid.forEach((x, i) => {
    if (keep(x)) {
      s += std[i];
      n++;
    }
  });
  return s / n;
}

export async function runInbetween(rt: Runtime, seed = 0, epochs = 300): Promise<InbetweenResult> {
  const train = inbetweenData(seed);
  const n = train.x.length;
  const model = mlp([1, 50, 50, 2], tanh);
  const net = model.bind(createNnOps(rt), 256);
  const init = model.init(seed);
  const shapes = model.shapes();
  const options = { loss: 'gaussian-nll' as const, epochs, batchSize: 16, seed, warmupSteps: 50 };
  const data = { x: train.x, targets: train.y, rows: n };

  const adamw = new AdamW(rt, { params: init, shapes, lr: 3e-3, weightDecay: 1e-4 });
  await fit(net, adamw, data, { ...options, lr: 3e-3 });
  // IVON.md §8, UCI regression row: small lr, h0 0.5, β₂ 0.999; ess 2000 (ess = N = 80 is far too noisy here).
  const ivon = new IVON(rt, { params: init, shapes, lr: 0.05, ess: 2000, hessInit: 0.5, beta2: 0.999, weightDecay: 1e-3, mcSamples: 2, seed });
  await fit(net, ivon, data, { ...options, lr: 0.05 });

  const grid = Float32Array.from({ length: 121 }, (_, i) => -1.5 + (3 * i) / 120);
  const pa = predictGaussianAtMean(net, adamw, grid, grid.length);
  const pi = await predictGaussianBma(net, ivon, grid, grid.length, { samples: 64 });
  return {
    train,
    grid,
    adamw: pa,
    ivon: pi,
    ivonStdGap: meanWhere(grid, pi.std, inGap),
    ivonStdData: meanWhere(grid, pi.std, onData),
    adamwStdGap: meanWhere(grid, pa.std, inGap),
    adamwStdData: meanWhere(grid, pa.std, onData),
  };
}

export function inbetweenSvg(r: InbetweenResult): string {
  const points = { x: r.train.x, y: r.train.y };
  return bandFigure(
    [
      { title: 'AdamW (Gaussian NLL head)', band: { label: 'mean ± 2 std', x: r.grid, mean: r.adamw.mean, std: r.adamw.std }, points },
      { title: 'IVON, BMA over 64 samples', band: { label: 'mean ± 2 std', x: r.grid, mean: r.ivon.mean, std: r.ivon.std }, points },
    ],
    { x: [-1.5, 1.5], y: [-2.5, 2.5] },
    `Predictive std in the gap / on the data: AdamW ${r.adamwStdGap.toFixed(3)} / ${r.adamwStdData.toFixed(3)}, IVON ${r.ivonStdGap.toFixed(3)} / ${r.ivonStdData.toFixed(3)}`,
  );
}

if (process.argv[1]?.endsWith('examples/inbetween.ts')) {
  const out = process.argv[2] ?? 'out';
  const rt = await createRuntime({ backend: 'auto' });
  const r = await runInbetween(rt);
  await rt.dispose();
  mkdirSync(out, { recursive: true });
  const path = resolve(out, 'inbetween.svg');
  writeFileSync(path, inbetweenSvg(r));
  console.log(`std in the gap / on the data — AdamW ${r.adamwStdGap.toFixed(3)} / ${r.adamwStdData.toFixed(3)}, IVON ${r.ivonStdGap.toFixed(3)} / ${r.ivonStdData.toFixed(3)} (ratio ${(r.ivonStdGap / r.ivonStdData).toFixed(2)})`);
  console.log(`wrote ${path}`);
}
