// sensitivity and leaveOneOut against ACTUAL retraining. A softmax-regression model and a small
// tanh MLP (200 rows, 3 classes) are trained with IVON (ess = N, so the posterior is that of
// Σ_i CE_i + (Nδ/2)‖θ‖²); the float64 trainers of posterior-helpers.ts then find that objective's
// minimiser θ* (Newton / L-BFGS, started at the IVON mean) and, for each of 60 removed examples,
// retrain warm-started from θ* to ‖∇‖∞ < 1e-9. The true change of the removed example's
// prediction Σ_k |p_k(θ₋ᵢ) − p_k(θ*)| is compared with the estimate, and the true held-out NLL
// −log p_y(θ₋ᵢ) with the LOO estimate. The figures are printed for the report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, fit, IVON, leaveOneOut, Linear, looEarlyStopping, mlp, sensitivity, Sequential, tanh, type Runtime } from '../src/index.js';
import { Rng } from '../src/nn/random.js';
import { createModelOps } from '../src/nn/runtime-ops.js';
import { forward64, lbfgs, newtonSoftmaxRegression, pearson, softmax, solve, spearman, toParams64, type Dataset64, type Params64 } from './posterior-helpers.js';

const N = 200;
const D = 4;
const K = 3;
const DELTA = 0.01; // prior precision in IVON units: absolute P = N·δ = 2
const REMOVED = Array.from({ length: 60 }, (_, i) => Math.floor((i * N) / 60));

/** Features N(0, 1); labels drawn from softmax(g(x·W)) with g the identity (linear) or 2·sin(2·) (for the MLP). */
function dataset(nonlinear: boolean): Dataset64 {
  const rng = new Rng(1);
  const x = Float32Array.from({ length: N * D }, () => rng.normal());
  const w = Array.from({ length: D * K }, () => 1.5 * rng.normal());
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const z = Array.from({ length: K }, (_, k) => {
      let s = 0;
      for (let q = 0; q < D; q++) s += x[i * D + q] * w[q * K + k];
      return nonlinear ? 2 * Math.sin(2 * s) : s;
    });
    const p = softmax(z);
    let u = rng.uniform();
    let c = 0;
    while (c < K - 1 && u > p[c]) u -= p[c++];
    labels[i] = c;
  }
  return { x, labels, rows: N };
}

interface Study {
  pearson: number;
  spearman: number;
  trueLoo: number;
  plainLoo: number;
  glmLoo: number;
  trainNll: number;
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

async function study(rt: Runtime, model: Sequential, data: Dataset64, retrain: (start: Params64, skip: number) => Params64): Promise<Study> {
  const opt = new IVON(rt, { params: model.init(2), shapes: model.shapes(), lr: 0.05, ess: N, weightDecay: DELTA, hessInit: 1, beta2: 0.999, mcSamples: 4, seed: 3 });
  const net = model.bind(createModelOps(rt), N);
  const train = { x: data.x, targets: data.labels, rows: N };
  await fit(net, opt, train, { loss: 'cross-entropy', epochs: 400, batchSize: 50, lr: 0.05, warmupSteps: 20, seed: 4 });
  const sens = await sensitivity(net, opt, train);
  const plain = await leaveOneOut(net, opt, train);
  const glm = await leaveOneOut(net, opt, train, { correction: 'glm' });
  const start = toParams64(Object.fromEntries(await Promise.all(opt.parameterNames.map(async (n) => [n, (await opt.readTensors(n)).mean] as const))));
  const star = retrain(start, -1);
  const trueChange: number[] = [];
  const estimate: number[] = [];
  const trueNll: number[] = [];
  const plainNll: number[] = [];
  const glmNll: number[] = [];
  const trainNll: number[] = [];
  for (const i of REMOVED) {
    const without = retrain(star, i);
    const xi = data.x.subarray(i * D, (i + 1) * D);
    const p0 = softmax(forward64(model, star, xi));
    const p1 = softmax(forward64(model, without, xi));
    trueChange.push(p0.reduce((s, v, k) => s + Math.abs(p1[k] - v), 0));
    estimate.push(sens[i]);
    trueNll.push(-Math.log(p1[data.labels[i]]));
    trainNll.push(-Math.log(p0[data.labels[i]]));
    plainNll.push(plain.perExample[i]);
    glmNll.push(glm.perExample[i]);
  }
  opt.dispose();
  return {
    pearson: pearson(estimate, trueChange),
    spearman: spearman(estimate, trueChange),
    trueLoo: mean(trueNll),
    plainLoo: mean(plainNll),
    glmLoo: mean(glmNll),
    trainNll: mean(trainNll),
  };
}

function report(label: string, s: Study): void {
  const rel = (v: number) => `${(((v - s.trueLoo) / s.trueLoo) * 100).toFixed(1)}%`;
  console.log(
    `${label}: sensitivity vs true prediction change over ${REMOVED.length} retrainings: Pearson ${s.pearson.toFixed(3)}, Spearman ${s.spearman.toFixed(3)}; ` +
      `LOO-NLL true ${s.trueLoo.toFixed(4)}, plain ${s.plainLoo.toFixed(4)} (${rel(s.plainLoo)}), glm ${s.glmLoo.toFixed(4)} (${rel(s.glmLoo)}), training NLL ${s.trainNll.toFixed(4)} (${rel(s.trainNll)})`,
  );
}

describe('memory perturbation against retraining in float64', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => rt.dispose());

  it('softmax regression: Pearson ≥ 0.8, LOO-NLL within 15%, the GLM correction closer than plain', { timeout: 600_000 }, async () => {
    const model = new Sequential([new Linear('f', D, K)]);
    const data = dataset(false);
    const s = await study(rt, model, data, (start, skip) => newtonSoftmaxRegression(model, start, data, N * DELTA, skip));
    report('softmax regression', s);
    expect(s.pearson).toBeGreaterThanOrEqual(0.8);
    expect(Math.abs(s.plainLoo - s.trueLoo) / s.trueLoo).toBeLessThan(0.15);
    expect(Math.abs(s.glmLoo - s.trueLoo) / s.trueLoo).toBeLessThan(0.15);
    expect(Math.abs(s.glmLoo - s.trueLoo)).toBeLessThan(Math.abs(s.plainLoo - s.trueLoo));
    // The estimate must carry information beyond the training loss: closer to the truth than it.
    expect(Math.abs(s.plainLoo - s.trueLoo)).toBeLessThan(Math.abs(s.trainNll - s.trueLoo));
  });

  it('tanh MLP 4-8-3: LOO-NLL within 15%, sensitivity correlated with the true change', { timeout: 900_000 }, async () => {
    const model = mlp([D, 8, K], tanh);
    const data = dataset(true);
    const s = await study(rt, model, data, (start, skip) => lbfgs(model, start, data, N * DELTA, skip));
    report('tanh MLP 4-8-3', s);
    expect(s.pearson).toBeGreaterThan(0.7);
    expect(s.spearman).toBeGreaterThan(0.7);
    expect(Math.abs(s.plainLoo - s.trueLoo) / s.trueLoo).toBeLessThan(0.15);
    expect(Math.abs(s.glmLoo - s.trueLoo) / s.trueLoo).toBeLessThan(0.15);
    expect(Math.abs(s.plainLoo - s.trueLoo)).toBeLessThan(Math.abs(s.trainNll - s.trueLoo));
  });

  it('MSE linear regression: sensitivity and LOO squared error against the exact ridge refits', { timeout: 300_000 }, async () => {
    // ℓ_i = (f_i − t_i)² and ess = N: IVON's posterior is that of Σ_i ℓ_i + (Nδ/2)‖θ‖², whose
    // minimiser without row i solves (2X̃ᵀX̃ + NδI)θ = 2X̃ᵀt over the other rows (X̃ = [x, 1]).
    const rng = new Rng(8);
    const x = Float32Array.from({ length: N * D }, () => rng.normal());
    const w = [0.8, -1.2, 0.5, 2];
    const t = Float32Array.from({ length: N }, (_, i) => w.reduce((s, v, q) => s + v * x[i * D + q], 0.3) + 0.5 * rng.normal());
    const model = new Sequential([new Linear('f', D, 1)]);
    const opt = new IVON(rt, { params: model.init(2), shapes: model.shapes(), lr: 0.05, ess: N, weightDecay: DELTA, beta2: 0.999, mcSamples: 4, seed: 3 });
    const net = model.bind(createModelOps(rt), N);
    const train = { x, targets: t, rows: N };
    await fit(net, opt, train, { loss: 'mse', epochs: 300, batchSize: 50, lr: 0.05, warmupSteps: 20, seed: 4 });
    const sens = await sensitivity(net, opt, train, { loss: 'mse' });
    const plain = await leaveOneOut(net, opt, train, { loss: 'mse' });
    const glm = await leaveOneOut(net, opt, train, { loss: 'mse', correction: 'glm' });
    const ridge = (skip: number) => {
      const A = Array.from({ length: D + 1 }, (_, r) => Float64Array.from({ length: D + 1 }, (_, c) => (r === c ? N * DELTA : 0)));
      const b = new Float64Array(D + 1);
      for (let i = 0; i < N; i++) {
        if (i === skip) continue;
        const xi = [...Array.from(x.subarray(i * D, (i + 1) * D)), 1];
        for (let r = 0; r <= D; r++) {
          b[r] += 2 * xi[r] * t[i];
          for (let c = 0; c <= D; c++) A[r][c] += 2 * xi[r] * xi[c];
        }
      }
      return solve(A, b);
    };
    const predict = (theta: Float64Array, i: number) => theta[D] + w.reduce((s, _, q) => s + theta[q] * x[i * D + q], 0);
    const full = ridge(-1);
    const trueChange: number[] = [];
    const estimate: number[] = [];
    const trueLoo: number[] = [];
    const plainLoo: number[] = [];
    const glmLoo: number[] = [];
    for (const i of REMOVED) {
      const f0 = predict(full, i);
      const f1 = predict(ridge(i), i);
      trueChange.push(Math.abs(f1 - f0));
      estimate.push(sens[i]);
      trueLoo.push((f1 - t[i]) ** 2);
      plainLoo.push(plain.perExample[i]);
      glmLoo.push(glm.perExample[i]);
    }
    const s = { pearson: pearson(estimate, trueChange), spearman: spearman(estimate, trueChange), trueLoo: mean(trueLoo), plainLoo: mean(plainLoo), glmLoo: mean(glmLoo) };
    console.log(
      `MSE linear regression: Pearson ${s.pearson.toFixed(3)}, Spearman ${s.spearman.toFixed(3)}; LOO squared error true ${s.trueLoo.toFixed(4)}, plain ${s.plainLoo.toFixed(4)}, glm ${s.glmLoo.toFixed(4)}`,
    );
    expect(s.pearson).toBeGreaterThanOrEqual(0.8);
    expect(Math.abs(s.plainLoo - s.trueLoo) / s.trueLoo).toBeLessThan(0.15);
    // Both are within 1% here and the GLM correction is not closer (reported above, not asserted).
    expect(Math.abs(s.glmLoo - s.trueLoo) / s.trueLoo).toBeLessThan(0.15);
    opt.dispose();
  });

  it('looEarlyStopping stops fit after `patience` epochs without improvement; its history is leaveOneOut', async () => {
    const model = mlp([D, 6, K], tanh);
    const data = dataset(false);
    const train = { x: data.x, targets: data.labels, rows: N };
    const opt = new IVON(rt, { params: model.init(5), shapes: model.shapes(), lr: 0.05, ess: N, weightDecay: DELTA, seed: 6 });
    const net = model.bind(createModelOps(rt), 64);
    // minDelta larger than any loss: only the first epoch counts as an improvement.
    const stopper = looEarlyStopping(net, opt, train, { patience: 2, minDelta: 1e9, correction: 'glm' });
    const infos: number[] = [];
    const result = await fit(net, opt, train, {
      loss: 'cross-entropy',
      epochs: 10,
      batchSize: 50,
      lr: 0.05,
      onEpochEnd: async (info) => {
        infos.push(info.epoch);
        return stopper.onEpochEnd(info);
      },
    });
    expect(result.epochLosses.length).toBe(3);
    expect(infos).toEqual([0, 1, 2]);
    expect(stopper.bestEpoch).toBe(0);
    expect(stopper.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    const now = await leaveOneOut(net, opt, train, { correction: 'glm' });
    expect(stopper.history[2].nll).toBe(now.nll);
    expect(() => looEarlyStopping(net, opt, train, { patience: 0 })).toThrow(/patience must be a positive integer/);
  });
});
