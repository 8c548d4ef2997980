// sensitivity and leaveOneOut per loss head, against the toolkit's own losses: e must be the
// gradient of the example's loss w.r.t. the outputs (checked by central differences of lossValue),
// so the plain LOO loss equals lossValue at f + v⊙∇ℓ; the estimates are the same on js, wasm and
// webgpu; IVON's σ² is put on the one-example scale (ess/N), so ess itself drops out; AdamW works
// with its stand-in variance; bad input is a clear error with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseGpu } from '../gpu/gpu-provider.js';
import { AdamW, createRuntime, fit, IVON, leaveOneOut, mlp, predictionVariance, sensitivity, tanh, type LossKind, type Runtime } from '../src/index.js';
import { lossValue } from '../src/nn/losses.js';
import { Rng } from '../src/nn/random.js';
import { createModelOps, createNnOps } from '../src/nn/runtime-ops.js';

const ROWS = 24;
const IN = 3;

function data(loss: LossKind, cols: number) {
  const rng = new Rng(12);
  const x = Float32Array.from({ length: ROWS * IN }, () => rng.normal());
  const tw = loss === 'cross-entropy' ? 1 : loss === 'mse' ? cols : cols / 2;
  const targets = Float32Array.from({ length: ROWS * tw }, (_, i) => (loss === 'cross-entropy' ? i % cols : rng.normal()));
  return { x, targets, rows: ROWS };
}

async function trained(rt: Runtime, loss: LossKind, cols: number, ess = ROWS) {
  const model = mlp([IN, 6, cols], tanh);
  const opt = new IVON(rt, { params: model.init(1), shapes: model.shapes(), lr: 0.05, ess, weightDecay: 0.05, beta2: 0.999, seed: 2 });
  const net = model.bind(createNnOps(rt), 32);
  const d = data(loss, cols);
  await fit(net, opt, d, { loss, epochs: 20, batchSize: 8, lr: 0.05, seed: 3 });
  return { model, opt, net, d };
}

describe('memory perturbation per loss head', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => rt.dispose());

  for (const [loss, cols] of [['cross-entropy', 4], ['mse', 2], ['gaussian-nll', 4]] as const) {
    it(`${loss}: plain LOO = loss at f + v⊙∇ℓ (∇ℓ by finite differences of the toolkit's loss); sensitivity = Σ|link'·v·∇ℓ|`, async () => {
      const { opt, net, d } = await trained(rt, loss, cols);
      const v = await predictionVariance(net, opt, d.x, ROWS);
      const f = net.forward((n) => opt.param(n), d.x, ROWS).slice();
      const loo = await leaveOneOut(net, opt, d, { loss });
      const sens = await sensitivity(net, opt, d, { loss });
      const tw = loss === 'cross-entropy' ? 1 : loss === 'mse' ? cols : cols / 2;
      for (let i = 0; i < ROWS; i++) {
        const row = Array.from(f.subarray(i * cols, (i + 1) * cols));
        const target = Array.from(d.targets.subarray(i * tw, (i + 1) * tw));
        const grad = row.map((_, k) => {
          const up = row.slice();
          const down = row.slice();
          up[k] += 1e-5;
          down[k] -= 1e-5;
          return (lossValue(loss, up, target, 1, cols) - lossValue(loss, down, target, 1, cols)) / 2e-5;
        });
        if (loss === 'cross-entropy') grad.forEach((g, k) => (grad[k] = Math.sign(g) * Math.min(Math.max(Math.abs(g), 1e-10), 1 - 1e-10)));
        const moved = row.map((fk, k) => fk + v[i * cols + k] * grad[k]);
        expect(loo.perExample[i]).toBeCloseTo(lossValue(loss, moved, target, 1, cols), 6);
        // link': p(1 − p) for softmax, 1 for means, sigmoid(raw) for a softplus std.
        const p = row.map((z) => Math.exp(z - Math.max(...row)));
        const sum = p.reduce((a, b) => a + b, 0);
        const link = row.map((z, k) => (loss === 'cross-entropy' ? (p[k] / sum) * (1 - p[k] / sum) : loss === 'gaussian-nll' && k >= cols / 2 ? 1 / (1 + Math.exp(-z)) : 1));
        const want = grad.reduce((s, g, k) => s + Math.abs(link[k] * g * v[i * cols + k]), 0);
        expect(Math.abs(sens[i] - want) / want).toBeLessThan(1e-4);
      }
      expect(loo.nll).toBeCloseTo(loo.perExample.reduce((a, b) => a + b, 0) / ROWS, 12);
    });
  }

  it('IVON’s ess drops out: σ² is rescaled to one example (ess/N)', async () => {
    const a = await trained(rt, 'cross-entropy', 3, ROWS);
    const snap = await a.opt.snapshot();
    const b = new IVON(rt, { params: a.model.init(1), shapes: a.model.shapes(), lr: 0.05, ess: 4 * ROWS, weightDecay: 0.05, seed: 2 });
    await b.restore({ ...snap, groups: snap.groups.map((g) => ({ ...g, hyper: { ...g.hyper, ess: 4 * ROWS } })) });
    const sa = await sensitivity(a.net, a.opt, a.d);
    const sb = await sensitivity(a.net, b, a.d);
    for (let i = 0; i < ROWS; i++) expect(Math.abs(sb[i] - sa[i]) / sa[i]).toBeLessThan(1e-5);
    // trainingSize says how many examples the posterior was learned from.
    const half = await sensitivity(a.net, a.opt, a.d, { trainingSize: 2 * ROWS });
    for (let i = 0; i < ROWS; i++) expect(Math.abs(half[i] - sa[i] / 2) / sa[i]).toBeLessThan(1e-5);
  });

  it('AdamW: the estimates use σ² = 1/(N·sqrt(v̂) + δ) and need the adamw option', async () => {
    const model = mlp([IN, 5, 3], tanh);
    const opt = new AdamW(rt, { params: model.init(4), shapes: model.shapes(), lr: 0.01 });
    const net = model.bind(createNnOps(rt), 16);
    const d = data('cross-entropy', 3);
    await fit(net, opt, d, { loss: 'cross-entropy', epochs: 5, batchSize: 8, lr: 0.01 });
    const adamw = { dataSize: ROWS, priorPrecision: 1 };
    const s = await sensitivity(net, opt, d, { adamw });
    expect(s.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    const loo = await leaveOneOut(net, opt, d, { adamw, correction: 'glm' });
    expect(Number.isFinite(loo.nll)).toBe(true);
    await expect(sensitivity(net, opt, d)).rejects.toThrow(/AdamW model has no learned variance; pass \{ adamw/);
    await expect(sensitivity(net, opt, d, { adamw, trainingSize: 10 })).rejects.toThrow(/trainingSize rescales IVON's σ²; for AdamW the adamw.dataSize option is N/);
  });

  it('bad input: a clear error, nothing changed', async () => {
    const { opt, net, d } = await trained(rt, 'cross-entropy', 3);
    const before = await opt.snapshot();
    const badLabel = { ...d, targets: Float32Array.from(d.targets, (v, i) => (i === 5 ? 7 : v)) };
    await expect(sensitivity(net, opt, badLabel)).rejects.toThrow(/target 7 at index 5 is not a label in 0..2/);
    const nanX = { ...d, x: d.x.map((v, i) => (i === 4 ? NaN : v)) };
    await expect(leaveOneOut(net, opt, nanX)).rejects.toThrow(/x has a non-finite value NaN at index 4/);
    await expect(sensitivity(net, opt, d, { loss: 'mse' })).rejects.toThrow(/data.targets must hold 72 values for 'mse' \(3 per row\)/);
    const nanTarget = { ...d, targets: Float32Array.from({ length: 72 }, (_, i) => (i === 3 ? NaN : 0)) };
    await expect(sensitivity(net, opt, nanTarget, { loss: 'mse' })).rejects.toThrow(/target NaN at index 3 is not finite/);
    await expect(sensitivity(net, opt, { ...d, targets: d.targets.subarray(0, 5) })).rejects.toThrow(/data.targets must hold 24 values/);
    await expect(leaveOneOut(net, opt, d, { correction: 'exact' as 'glm' })).rejects.toThrow(/correction must be 'none' or 'glm'/);
    await expect(sensitivity(net, opt, d, { loss: 'hinge' as LossKind })).rejects.toThrow(/loss must be 'cross-entropy', 'mse' or 'gaussian-nll'/);
    await expect(sensitivity(net, opt, d, { trainingSize: 0 })).rejects.toThrow(/trainingSize must be a positive integer/);
    expect(await opt.snapshot()).toEqual(before);
  });
});

describe('memory perturbation on every backend', () => {
  const rts: Record<string, Runtime> = {};
  beforeAll(async () => {
    for (const kind of ['js', 'wasm', 'webgpu'] as const) rts[kind] = await createRuntime({ backend: kind });
  });
  afterAll(async () => {
    for (const rt of Object.values(rts)) await rt.dispose();
    releaseGpu();
  });

  it('sensitivity and LOO on wasm and webgpu equal js for the same posterior', async () => {
    const model = mlp([IN, 7, 3], tanh);
    const d = data('cross-entropy', 3);
    const src = new IVON(rts.js, { params: model.init(9), shapes: model.shapes(), lr: 0.05, ess: ROWS, weightDecay: 0.05, beta2: 0.999, seed: 2 });
    await fit(model.bind(createModelOps(rts.js), 16), src, d, { loss: 'cross-entropy', epochs: 10, batchSize: 8, lr: 0.05 });
    const snap = await src.snapshot();
    const results: Record<string, { s: Float32Array; loo: number }> = {};
    for (const [kind, rt] of Object.entries(rts)) {
      const opt = new IVON(rt, { params: model.init(9), shapes: model.shapes(), lr: 0.05, ess: ROWS, weightDecay: 0.05, beta2: 0.999, seed: 2 });
      await opt.restore(snap);
      const net = model.bind(createModelOps(rt), 16);
      results[kind] = { s: await sensitivity(net, opt, d), loo: (await leaveOneOut(net, opt, d, { correction: 'glm' })).nll };
      opt.dispose();
    }
    for (const kind of ['wasm', 'webgpu']) {
      for (let i = 0; i < ROWS; i++) expect(Math.abs(results[kind].s[i] - results.js.s[i]) / results.js.s[i], `${kind} row ${i}`).toBeLessThan(1e-3);
      expect(Math.abs(results[kind].loo - results.js.loo) / results.js.loo).toBeLessThan(1e-5);
    }
  });
});
