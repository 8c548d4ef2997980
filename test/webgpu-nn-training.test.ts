// GPU-resident training end to end (Dawn over SwiftShader): a small MLP trained with IVON (2 MC
// samples per step) and with AdamW by fit() on a webgpu runtime reaches the same weights as the
// same seeded run on the js backend (the Philox noise is identical across backends; only float32
// vs float64 GEMM accumulation differs), and predictBma / predictAtMean / the Gaussian head agree.
// No adapter is a failure here, never a skip.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseGpu } from '../gpu/gpu-provider.js';
import { GpuNetwork } from '../gpu/nn/gpu-network.js';
import { AdamW, createRuntime, IVON, type Runtime } from '../src/index.js';
import { fit, type FitOptions } from '../src/nn/fit.js';
import { gelu, relu, tanh, type Layer } from '../src/nn/layers.js';
import { mlp, Network } from '../src/nn/network.js';
import { predictAtMean, predictBma, predictGaussianAtMean, predictGaussianBma } from '../src/nn/predict.js';
import { Rng } from '../src/nn/random.js';
import { createModelOps, createNnOps } from '../src/nn/runtime-ops.js';

let gpu: Runtime;
let cpu: Runtime;

beforeAll(async () => {
  gpu = await createRuntime({ backend: 'webgpu' });
  cpu = await createRuntime({ backend: 'js' });
});

afterAll(async () => {
  await gpu?.dispose();
  await cpu?.dispose();
  releaseGpu();
});

/** Seeded blobs: rows × inF features, labels in 0..classes-1 (and a regression target). */
function dataset(rows: number, inF: number, classes: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * inF);
  const labels = new Int32Array(rows);
  const values = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    labels[i] = i % classes;
    for (let j = 0; j < inF; j++) x[i * inF + j] = rng.normal() + (j % classes === labels[i] ? 1.5 : 0);
    values[i] = Math.sin(x[i * inF]) + 0.1 * rng.normal();
  }
  return { x, labels, values, rows };
}

/** max |a - b| / max(|b|, 1) over every parameter. */
function maxRelDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const name of Object.keys(b)) {
    expect(a[name].length).toBe(b[name].length);
    for (let i = 0; i < b[name].length; i++) worst = Math.max(worst, Math.abs(a[name][i] - b[name][i]) / Math.max(Math.abs(b[name][i]), 1));
  }
  return worst;
}

async function means(opt: IVON | AdamW, names: string[]): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const name of names) out[name] = (await opt.readTensors(name)).mean;
  return out;
}

const inF = 12, classes = 5, hidden = 24, maxBatch = 32;
const data = dataset(70, inF, classes, 3); // 70 rows: the last minibatch of each epoch is partial
const options: FitOptions = { loss: 'cross-entropy', epochs: 2, batchSize: 16, lr: 0.05, warmupSteps: 2, seed: 9 };

describe('GPU-resident training matches the js backend', () => {
  it('createModelOps gives GPU ops on webgpu and the CPU ops elsewhere; createNnOps says what to use', () => {
    const model = mlp([inF, hidden, classes], relu);
    expect(model.bind(createModelOps(gpu), 8)).toBeInstanceOf(GpuNetwork);
    expect(model.bind(createModelOps(cpu), 8)).toBeInstanceOf(Network);
    expect(() => createNnOps(gpu)).toThrow(/createModelOps/);
  });

  for (const [label, act] of [['relu', relu], ['gelu', gelu], ['tanh', tanh]] as Array<[string, () => Layer]>) {
    it(`IVON (2 MC samples), MLP ${inF}-${hidden}-${hidden}-${classes} with ${label}: weights, losses, predictBma and predictAtMean`, async () => {
      const model = mlp([inF, hidden, hidden, classes], act);
      const init = model.init(5);
      const make = (rt: Runtime) => new IVON(rt, { params: init, shapes: model.shapes(), lr: 0.05, ess: 500, hessInit: 0.1, mcSamples: 2, seed: 11 });
      const runs = [];
      for (const rt of [gpu, cpu]) {
        const opt = make(rt);
        const net = model.bind(createModelOps(rt), maxBatch);
        const result = await fit(net, opt, { x: data.x, targets: data.labels, rows: data.rows }, options);
        const bma = await predictBma(net, opt, data.x, data.rows, { samples: 4 });
        const atMean = await predictAtMean(net, opt, data.x, data.rows);
        runs.push({ opt, result, bma, atMean, weights: await means(opt, opt.parameterNames) });
      }
      const [g, c] = runs;
      expect(g.result.steps).toBe(c.result.steps);
      expect(g.result.steps).toBe(10);
      expect(g.opt.stepCount).toBe(10);
      expect(maxRelDiff(g.weights, c.weights)).toBeLessThanOrEqual(1e-4);
      // Training moved the weights (so the agreement is not trivial).
      expect(maxRelDiff(g.weights, init)).toBeGreaterThan(1e-3);
      g.result.epochLosses.forEach((l, i) => expect(Math.abs(l - c.result.epochLosses[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, c.result.epochLosses[i])));
      for (const [a, b] of [[g.bma, c.bma], [g.atMean, c.atMean]]) {
        expect(a.samples).toBe(b.samples);
        for (let i = 0; i < b.probs.length; i++) expect(Math.abs(a.probs[i] - b.probs[i])).toBeLessThanOrEqual(1e-4);
        for (let i = 0; i < b.entropy.length; i++) expect(Math.abs(a.entropy[i] - b.entropy[i])).toBeLessThanOrEqual(1e-4);
        for (let i = 0; i < b.mutualInformation.length; i++) expect(Math.abs(a.mutualInformation[i] - b.mutualInformation[i])).toBeLessThanOrEqual(1e-4);
      }
      // BMA draws differ from the mean: mutual information is positive somewhere.
      expect(Math.max(...g.bma.mutualInformation)).toBeGreaterThan(0);
    });
  }

  it('AdamW: same weights after fit on both backends', async () => {
    const model = mlp([inF, hidden, classes], relu);
    const init = model.init(6);
    const weights = [];
    for (const rt of [gpu, cpu]) {
      const opt = new AdamW(rt, { params: init, shapes: model.shapes(), lr: 0.01, weightDecay: 0.01 });
      await fit(model.bind(createModelOps(rt), maxBatch), opt, { x: data.x, targets: data.labels, rows: data.rows }, options);
      weights.push(await means(opt, opt.parameterNames));
    }
    expect(maxRelDiff(weights[0], weights[1])).toBeLessThanOrEqual(1e-4);
    expect(maxRelDiff(weights[0], init)).toBeGreaterThan(1e-3);
  });

  it('Gaussian NLL head with IVON: weights, predictGaussianBma and predictGaussianAtMean', async () => {
    const model = mlp([inF, hidden, 2], tanh);
    const init = model.init(7);
    const runs = [];
    for (const rt of [gpu, cpu]) {
      const opt = new IVON(rt, { params: init, shapes: model.shapes(), lr: 0.02, ess: 500, hessInit: 0.1, seed: 4 });
      const net = model.bind(createModelOps(rt), maxBatch);
      await fit(net, opt, { x: data.x, targets: data.values, rows: data.rows }, { ...options, loss: 'gaussian-nll' });
      const bma = await predictGaussianBma(net, opt, data.x, data.rows, { samples: 3 });
      const atMean = await predictGaussianAtMean(net, opt, data.x, data.rows);
      runs.push({ bma, atMean, weights: await means(opt, opt.parameterNames) });
    }
    expect(maxRelDiff(runs[0].weights, runs[1].weights)).toBeLessThanOrEqual(1e-4);
    for (const key of ['mean', 'std', 'epistemicStd'] as const) {
      for (const p of ['bma', 'atMean'] as const) {
        const a = runs[0][p][key], b = runs[1][p][key];
        for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i]), `${p} ${key}[${i}]`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(b[i])));
      }
    }
  });

  it('rejects batches larger than maxBatch before touching the GPU', async () => {
    const model = mlp([inF, hidden, classes], relu);
    const net = model.bind(createModelOps(gpu), 4);
    if (!(net instanceof GpuNetwork)) throw new Error('createModelOps on webgpu must bind a GpuNetwork');
    const opt = new IVON(gpu, { params: model.init(1), shapes: model.shapes(), lr: 0.05, ess: 500 });
    await expect(fit(net, opt, { x: data.x, targets: data.labels, rows: data.rows }, options)).rejects.toThrow(/maxBatch/);
    await expect(net.forwardRead(() => { throw new Error('unused'); }, data.x, 5)).rejects.toThrow(/rows must be an integer in 1\.\.4/);
  });
});
