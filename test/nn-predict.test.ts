// BMA in log space (IVON.md §3) and the uncertainty signals, against a direct float64
// computation: a stand-in optimizer presents two known weight samples, so p̄ = ½(p₁ + p₂),
// entropy = H(p̄) and mutual information = H(p̄) − ½(H(p₁) + H(p₂)).
import { describe, expect, it } from 'vitest';
import { Linear } from '../src/nn/layers.js';
import { Sequential } from '../src/nn/network.js';
import { JsOps } from '../src/nn/ops.js';
import { predictAtMean, predictBma } from '../src/nn/predict.js';
import type { TrainableOptimizer } from '../src/nn/trainable.js';

const model = new Sequential([new Linear('f', 2, 3)]);
const samples = [
  { 'f.weight': Float32Array.of(1, 0, -1, 0, 2, 0), 'f.bias': Float32Array.of(0, 0.5, 0) },
  { 'f.weight': Float32Array.of(-1, 1, 0, 2, 0, -2), 'f.bias': Float32Array.of(0.3, 0, 0) },
];
const mean = { 'f.weight': Float32Array.of(0, 0.5, -0.5, 1, 1, -1), 'f.bias': Float32Array.of(0.15, 0.25, 0) };

function standIn(): TrainableOptimizer {
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
    param: (n: string) => (mean as Record<string, Float32Array>)[n],
  };
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
}
const entropy = (p: number[]) => -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
function probsOf(w: Record<string, Float32Array>, x: number[]): number[] {
  return softmax([0, 1, 2].map((j) => w['f.bias'][j] + x[0] * w['f.weight'][j] + x[1] * w['f.weight'][3 + j]));
}

describe('prediction', () => {
  const x = Float32Array.of(0.5, -1, 2, 0.25, -0.3, 0.7);
  const rows = 3;

  it('BMA averages the samples’ probabilities (computed in log space); entropy and MI match', async () => {
    const net = model.bind(new JsOps(), 2); // 3 rows in chunks of 2
    const p = await predictBma(net, standIn(), x, rows, { samples: 2 });
    for (let i = 0; i < rows; i++) {
      const xi = [x[2 * i], x[2 * i + 1]];
      const p1 = probsOf(samples[0], xi);
      const p2 = probsOf(samples[1], xi);
      const avg = p1.map((v, k) => (v + p2[k]) / 2);
      for (let k = 0; k < 3; k++) {
        expect(p.probs[i * 3 + k]).toBeCloseTo(avg[k], 6);
        expect(p.logProbs[i * 3 + k]).toBeCloseTo(Math.log(avg[k]), 6);
      }
      expect(p.entropy[i]).toBeCloseTo(entropy(avg), 6);
      expect(p.mutualInformation[i]).toBeCloseTo(entropy(avg) - (entropy(p1) + entropy(p2)) / 2, 6);
      expect(p.mutualInformation[i]).toBeGreaterThan(0);
    }
  });

  it('prediction at the mean uses opt.param and has zero mutual information', () => {
    const net = model.bind(new JsOps(), 4);
    const p = predictAtMean(net, standIn(), x, rows);
    const want = probsOf(mean, [x[0], x[1]]);
    for (let k = 0; k < 3; k++) expect(p.probs[k]).toBeCloseTo(want[k], 6);
    expect(Array.from(p.mutualInformation)).toEqual([0, 0, 0]);
  });

  it('rejects a bad sample count', async () => {
    const net = model.bind(new JsOps(), 4);
    await expect(predictBma(net, standIn(), x, rows, { samples: 0 })).rejects.toThrow(/samples must be a positive integer/);
  });
});
