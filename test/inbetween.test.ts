// The in-between uncertainty example (examples/inbetween.ts) and the pieces it rests on: the
// Gaussian NLL's gradient (mean + softplus std) against float64 finite differences, including
// extreme pre-activations; the softplus branches; the BMA mixture moments against a direct
// computation; and seeded end-to-end runs where IVON's predictive std opens up in the gap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbetweenSvg } from '../examples/inbetween-figure.js';
import { inbetweenData, runInbetween, type InbetweenResult } from '../examples/inbetween.js';
import { createRuntime, type Runtime } from '../src/index.js';
import { Linear } from '../src/nn/layers.js';
import { gaussianNll, MIN_STD, softplus } from '../src/nn/losses.js';
import { Sequential } from '../src/nn/network.js';
import { JsOps } from '../src/nn/ops.js';
import { predictGaussianBma } from '../src/nn/predict.js';
import type { TrainableOptimizer } from '../src/nn/trainable.js';

describe('Gaussian NLL (mean + softplus std)', () => {
  const nll = (mu: number, raw: number, t: number) => {
    const s = softplus(raw) + MIN_STD;
    return 0.5 * Math.log(2 * Math.PI) + Math.log(s) + (t - mu) ** 2 / (2 * s * s);
  };

  it('matches float64 finite differences for small, moderate and large pre-activations and residuals', () => {
    let checked = 0;
    for (const raw of [-20.5, -19.5, -8, -2, -0.3, 0, 0.7, 3, 12, 19.5, 20.5, 35]) {
      for (const residual of [0, 1e-3, 0.05, 1, 7]) {
        const out = Float64Array.of(0.2, raw, -0.4, 0.1); // two rows, d = 1
        const target = [0.2 + residual, -0.4 - 0.5 * residual];
        const grad = new Float64Array(4);
        const loss = gaussianNll(out, target, 2, 2, grad);
        expect(loss).toBeCloseTo((nll(0.2, raw, target[0]) + nll(-0.4, 0.1, target[1])) / 2, 9);
        for (let k = 0; k < 4; k++) {
          const h = 1e-5 * Math.max(1, Math.abs(out[k]));
          const plus = Float64Array.from(out);
          const minus = Float64Array.from(out);
          plus[k] += h;
          minus[k] -= h;
          const fd = (gaussianNll(plus, target, 2, 2) - gaussianNll(minus, target, 2, 2)) / (2 * h);
          // Rounding in the difference quotient scales with the loss itself.
          const tol = 1e-6 * Math.max(1, Math.abs(fd)) + 1e-9 * Math.max(1, Math.abs(loss)) / h;
          expect(Math.abs(grad[k] - fd), `raw ${raw}, residual ${residual}, output ${k}: analytic ${grad[k]} vs FD ${fd}`).toBeLessThan(tol);
          checked++;
        }
      }
    }
    expect(checked).toBe(12 * 5 * 4);
  });

  it('stays finite with the closed-form limits at extreme pre-activations', () => {
    const grad = new Float64Array(2);
    // raw → −∞: std = MIN_STD, the scale gradient vanishes (σ'(raw) = 0), the mean gradient is −r/MIN_STD².
    expect(gaussianNll(Float64Array.of(0, -800), [0.01], 1, 2, grad)).toBeCloseTo(0.5 * Math.log(2 * Math.PI) + Math.log(MIN_STD) + 1e-4 / (2 * MIN_STD ** 2), 6);
    expect(grad[0]).toBeCloseTo(-0.01 / MIN_STD ** 2, 3);
    expect(Math.abs(grad[1])).toBe(0);
    // raw → +∞: std = raw (+ MIN_STD), d/draw = 1/s − r²/s³.
    const s = 800 + MIN_STD;
    expect(gaussianNll(Float64Array.of(0, 800), [3], 1, 2, grad)).toBeCloseTo(0.5 * Math.log(2 * Math.PI) + Math.log(s) + 9 / (2 * s * s), 12);
    expect(grad[1]).toBeCloseTo(1 / s - 9 / s ** 3, 15);
  });

  it('softplus is continuous across its branch points and exact against log1p(exp(x))', () => {
    for (const x of [-50, -20.000001, -20, -19.999999, -5, 0, 5, 19.999999, 20, 20.000001, 50, 700]) {
      const reference = x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
      expect(Math.abs(softplus(x) - reference) / reference, `softplus(${x})`).toBeLessThan(1e-12);
    }
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(-700) / Math.exp(-700)).toBeCloseTo(1, 12);
  });
});

describe('Gaussian BMA: moments of the mixture of the sampled Gaussians', () => {
  // y = [x·a + b, x·c + d]: mean and raw std of a Gaussian head, two known weight samples.
  const model = new Sequential([new Linear('f', 1, 2)]);
  const samples = [
    { 'f.weight': Float32Array.of(1, 0.5), 'f.bias': Float32Array.of(0, -1) },
    { 'f.weight': Float32Array.of(-2, 0), 'f.bias': Float32Array.of(0.5, 2) },
    { 'f.weight': Float32Array.of(0.25, -1), 'f.bias': Float32Array.of(-0.3, 0) },
  ];
  const standIn = (): TrainableOptimizer => {
    let draw = 0;
    return {
      kind: 'ivon',
      layout: { length: 0, params: new Map(), groups: [] },
      groupCount: 1,
      async sampledParams(fn) {
        const theta = samples[draw++ % samples.length] as Record<string, Float32Array>;
        return fn({ theta: (n: string) => theta[n] } as never);
      },
      async step() {},
      setLr() {},
      param: () => {
        throw new Error('not used');
      },
    };
  };

  it('mean = average of means; variance = average of (std² + mean²) − mean²', async () => {
    const x = Float32Array.of(-1.5, 0, 0.4, 2);
    const net = model.bind(new JsOps(), 4);
    const p = await predictGaussianBma(net, standIn(), x, 4, { samples: 3 });
    x.forEach((xi, i) => {
      const mus = samples.map((s) => Math.fround(Math.fround(xi * s['f.weight'][0]) + s['f.bias'][0]));
      const stds = samples.map((s) => softplus(Math.fround(Math.fround(xi * s['f.weight'][1]) + s['f.bias'][1])) + MIN_STD);
      const mean = mus.reduce((a, v) => a + v) / 3;
      const second = mus.reduce((a, v, k) => a + stds[k] ** 2 + v * v, 0) / 3;
      const epistemic = mus.reduce((a, v) => a + v * v, 0) / 3 - mean * mean;
      expect(p.mean[i]).toBeCloseTo(mean, 6);
      expect(p.std[i]).toBeCloseTo(Math.sqrt(second - mean * mean), 6);
      expect(p.epistemicStd[i]).toBeCloseTo(Math.sqrt(epistemic), 6);
    });
  });
});

describe('in-between uncertainty example (seeded, AdamW vs IVON)', () => {
  let wasm: Runtime;
  let js: Runtime;
  beforeAll(async () => {
    wasm = await createRuntime({ backend: 'wasm' });
    js = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => {
    await wasm?.dispose();
    await js?.dispose();
  });

  it('the data: two seeded clusters with nothing in the gap', () => {
    const a = inbetweenData(3);
    expect(a.x.length).toBe(80);
    expect(Array.from(a.x).every((x) => Math.abs(x) >= 0.3 && Math.abs(x) <= 1)).toBe(true);
    expect(Array.from(a.x).filter((x) => x < 0).length).toBe(40);
    expect(inbetweenData(3).y).toEqual(a.y);
    const rms = Math.sqrt(Array.from(a.y).reduce((s, y, i) => s + (y - Math.sin(3 * a.x[i])) ** 2, 0) / 80);
    expect(rms).toBeGreaterThan(0.03);
    expect(rms).toBeLessThan(0.07);
  });

  const check = (r: InbetweenResult) => {
    // Both fit the data (noise std 0.05).
    expect(r.adamw.rmse).toBeLessThan(0.08);
    expect(r.ivon.rmse).toBeLessThan(0.08);
    // On the data IVON's std is about the noise level, not inflated by its posterior.
    expect(r.ivon.stdData).toBeLessThan(0.09);
    // IVON: the band opens up in the gap, and it is the weight uncertainty that opens it.
    expect(r.ivon.ratio).toBeGreaterThanOrEqual(2);
    const epistemicGap = r.ivon.prediction.epistemicStd.filter((_, i) => Math.abs(r.grid[i]) < 0.2);
    const meanEpistemicGap = epistemicGap.reduce((a, v) => a + v, 0) / epistemicGap.length;
    expect(meanEpistemicGap).toBeGreaterThan(1.5 * r.ivon.stdData);
    // AdamW: one Gaussian, no wider in the gap than on the data.
    expect(r.adamw.ratio).toBeLessThan(1.2);
    expect(r.ivon.ratio).toBeGreaterThan(2 * r.adamw.ratio);
    const svg = inbetweenSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity/);
  };

  it('wasm backend, seed 0: IVON std in the gap ≥ 2× its std on the data; AdamW flat', async () => {
    check(await runInbetween(wasm, 0));
  });

  it('js backend, seed 1: the same holds', async () => {
    check(await runInbetween(js, 1));
  });
});
