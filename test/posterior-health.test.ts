// posteriorHealth (src/nn/posterior-health.ts) against values computed by hand from the state it
// reads: a fresh IVON (h = h₀ everywhere), a restored state whose curvature decayed, one whose σ
// reached the prior's, and one whose σ is larger than the weights — each with the warning that
// names the setting to change, or none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, createRuntime, IVON, type Runtime } from '../src/index.js';
import { fit } from '../src/nn/fit.js';
import { relu } from '../src/nn/layers.js';
import { mlp } from '../src/nn/network.js';
import { createModelOps } from '../src/nn/runtime-ops.js';
import { BLOWUP_SIGMA, COLLAPSE_RATIO, MAX_STEP_GAIN, posteriorHealth } from '../src/nn/posterior-health.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'js' });
});
afterAll(async () => {
  await rt.dispose();
});

const shapes = { w: [4, 5], b: [5] };
const params = { w: new Float32Array(20).fill(0.1), b: new Float32Array(5) };

async function withHess(opt: IVON, hess: number): Promise<void> {
  const s = await opt.snapshot();
  for (const name of ['w', 'b']) s.tensors[name].hess = new Float32Array(s.tensors[name].mean.length).fill(hess);
  await opt.restore(s);
}

describe('posteriorHealth', () => {
  it('a fresh IVON: h/h₀ = 1, σ = 1/sqrt(ess·(h₀+δ)), step gain 1, no warning', async () => {
    const opt = new IVON(rt, { params, shapes, lr: 0.1, ess: 1000, hessInit: 0.5, weightDecay: 0.01 });
    const h = await posteriorHealth(opt);
    expect(h.meanHessRatio).toBeCloseTo(1, 6);
    expect(h.medianSigma).toBeCloseTo(1 / Math.sqrt(1000 * 0.51), 6);
    expect(h.medianPriorRatio).toBeCloseTo(Math.sqrt(0.01 / 0.51), 6);
    expect(h.medianStepGain).toBeCloseTo(1, 6);
    expect(h.warning).toBeUndefined();
    opt.dispose();
  });

  it('decayed curvature: the step gain (h₀+δ)/(h+δ) passes the limit and the warning names β₂ and weightDecay', async () => {
    // ess 1e6 keeps σ = 1/sqrt(ess·(h+δ)) ≈ 0.03 small, so this is decay, not a blow-up.
    const opt = new IVON(rt, { params, shapes, lr: 0.1, ess: 1e6, hessInit: 1, weightDecay: 1e-4 });
    await withHess(opt, 1e-3);
    const h = await posteriorHealth(opt);
    expect(h.meanHessRatio).toBeCloseTo(1e-3, 6);
    expect(h.medianStepGain).toBeCloseTo(1.0001 / 1.1e-3, 1);
    expect(h.medianStepGain).toBeGreaterThan(MAX_STEP_GAIN);
    expect(h.warning).toMatch(/curvature decayed.*raise beta2 toward 0\.9999, raise weightDecay so that ess·weightDecay is 10–100/);
    opt.dispose();
  });

  it('collapse to the prior: h = 0 with a strong prior gives σ = σ_prior and the collapse warning', async () => {
    const opt = new IVON(rt, { params, shapes, lr: 0.1, ess: 1000, hessInit: 0.05, weightDecay: 0.05 });
    await withHess(opt, 0);
    const h = await posteriorHealth(opt);
    expect(h.medianPriorRatio).toBeCloseTo(1, 5);
    expect(h.medianPriorRatio).toBeGreaterThanOrEqual(COLLAPSE_RATIO);
    expect(h.medianStepGain).toBeCloseTo(2, 5);
    expect(h.warning).toMatch(/collapsed to the prior.*raise weightDecay so that ess·weightDecay is 10–100, or raise beta2/);
    opt.dispose();
  });

  it('blow-up: σ larger than the weights (ess 1) is named with lr and hessInit', async () => {
    const opt = new IVON(rt, { params, shapes, lr: 0.1, ess: 1, hessInit: 1, weightDecay: 1e-4 });
    const h = await posteriorHealth(opt);
    expect(h.medianSigma).toBeGreaterThan(BLOWUP_SIGMA);
    expect(h.warning).toMatch(/blew up.*lower lr, raise hessInit/);
    opt.dispose();
  });

  it('fit reports the health at each epoch end, warns once through onWarning, and checks the two options', async () => {
    const model = mlp([4, 5], relu);
    const net = model.bind(createModelOps(rt), 8);
    const x = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
    const targets = Int32Array.from({ length: 8 }, (_, i) => i % 5);
    // ess 1: σ ≈ 1, a blown-up posterior from the first epoch.
    const opt = new IVON(rt, { params: model.init(0), shapes: model.shapes(), lr: 0.01, ess: 1, hessInit: 1, weightDecay: 1e-4 });
    const warnings: string[] = [];
    const seen: number[] = [];
    await fit(net, opt, { x, targets, rows: 8 }, {
      loss: 'cross-entropy', epochs: 3, batchSize: 8, lr: 0.01,
      onWarning: (m) => warnings.push(m),
      onEpochEnd: (info) => void seen.push(info.posterior!.medianSigma),
    });
    expect(seen.length).toBe(3);
    expect(seen.every((s) => s > BLOWUP_SIGMA)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^fit, epoch 1: IVON's posterior blew up/);
    const bad = { loss: 'cross-entropy' as const, epochs: 1, batchSize: 8, lr: 0.01 };
    await expect(fit(net, opt, { x, targets, rows: 8 }, { ...bad, watchPosterior: 'yes' as unknown as boolean })).rejects.toThrow(/watchPosterior must be true or false/);
    await expect(fit(net, opt, { x, targets, rows: 8 }, { ...bad, onWarning: 'log' as unknown as () => void })).rejects.toThrow(/onWarning must be a function/);
    opt.dispose();
  });

  it('refuses what is not IVON', async () => {
    const adamw = new AdamW(rt, { params, shapes });
    await expect(posteriorHealth(adamw as unknown as IVON)).rejects.toThrow(/needs an IVON optimizer.*adamw/);
    adamw.dispose();
  });
});

describe('posteriorHealth medians', () => {
  it('the in-place quickselect median equals the sorted median on odd, even, tied and signed inputs', async () => {
    const { medianInPlace } = await import('../src/nn/posterior-health.js');
    let seed = 7;
    const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    for (const n of [1, 2, 3, 4, 5, 16, 17, 1000, 1001, 8192]) {
      for (const tied of [false, true]) {
        const values = Float64Array.from({ length: n }, () => (tied ? Math.round(next() * 4) || 0 : next() * 1e3));
        const sorted = values.slice().sort();
        const want = n % 2 ? sorted[n >> 1] : (sorted[(n >> 1) - 1] + sorted[n >> 1]) / 2;
        expect(medianInPlace(values.slice())).toBe(want);
      }
    }
  });
});

describe('posteriorHealth medians from the state', () => {
  // The medians by brute force: every sampled element's σ (float32), σ/σ_prior and gain, sorted.
  function sortedMedian(values: number[]): number {
    const v = [...values].sort((a, b) => a - b);
    const n = v.length;
    return n % 2 ? v[n >> 1] : (v[(n >> 1) - 1] + v[n >> 1]) / 2;
  }

  async function check(opt: IVON, hyperOf: (name: string) => { ess: number; hessInit: number; delta: (i: number) => number }): Promise<void> {
    // Random curvature in [0.001, 2), ties included, odd and even counts (21 and 6 elements per parameter below).
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const s = await opt.snapshot();
    for (const name of Object.keys(s.tensors)) s.tensors[name].hess = Float32Array.from(s.tensors[name].mean, (_, i) => (i % 5 === 0 ? 0.5 : 0.001 + 2 * next()));
    await opt.restore(s);
    const sigmas: number[] = [];
    const ratios: number[] = [];
    const gains: number[] = [];
    for (const name of opt.parameterNames) {
      const { hess } = await opt.readTensors(name);
      const { ess, hessInit, delta } = hyperOf(name);
      hess!.forEach((h, i) => {
        const sigma = Math.fround(1 / Math.sqrt(ess * (h + delta(i))));
        sigmas.push(sigma);
        ratios.push(sigma * Math.sqrt(ess * delta(i)));
        gains.push((hessInit + delta(i)) / (h + delta(i)));
      });
    }
    const health = await posteriorHealth(opt);
    expect(health.medianSigma).toBe(sortedMedian(sigmas));
    expect(health.medianPriorRatio).toBe(sortedMedian(ratios));
    expect(health.medianStepGain).toBe(sortedMedian(gains));
  }

  it('one group, uniform prior (the medians from h\'s middle pair) and an even count', async () => {
    const opt = new IVON(rt, { params: { w: new Float32Array(21), b: new Float32Array(5) }, shapes: { w: [21], b: [5] }, lr: 0.1, ess: 300, hessInit: 0.2, weightDecay: 0.03 });
    await check(opt, () => ({ ess: 300, hessInit: 0.2, delta: () => 0.03 }));
    opt.dispose();
  });

  it('two groups with different ess and δ, and a per-element prior (each median selected on its own)', async () => {
    const groups = [
      { params: { w: new Float32Array(21) }, shapes: { w: [21] }, ess: 300, hessInit: 0.2, weightDecay: 0.03 },
      { params: { b: new Float32Array(6) }, shapes: { b: [6] }, ess: 50, hessInit: 0.7, weightDecay: 0.1 },
    ];
    const opt = new IVON(rt, { groups, lr: 0.1 } as unknown as ConstructorParameters<typeof IVON>[1]);
    await check(opt, (name) => (name === 'w' ? { ess: 300, hessInit: 0.2, delta: () => 0.03 } : { ess: 50, hessInit: 0.7, delta: () => 0.1 }));
    const precision = Float32Array.from({ length: 21 }, (_, i) => 0.01 + i / 100);
    await opt.setPrior({ precision: { w: precision } });
    await check(opt, (name) => (name === 'w' ? { ess: 300, hessInit: 0.2, delta: (i) => precision[i] } : { ess: 50, hessInit: 0.7, delta: () => 0.1 }));
    opt.dispose();
  });
});
