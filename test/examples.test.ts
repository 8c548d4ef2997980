// The main job's examples: the 2-D flat-minima picture (IVON's curvature h against the true
// Hessian diagonal of the logistic loss at its mean, the ellipse long along the flat direction,
// AdamW drifting further along it) and the MNIST loader (all 10 000 digits of the `mnist` package,
// by class, pixels in [0, 1]; the MNIST job itself takes minutes and is run by hand).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../src/index.js';
import { flatMinima, flatMinimaSvg, hessianDiagonal, lossAndGrad, STEPS, toyData } from '../examples/flat-minima.js';
import { loadMnist, MNIST_SIDE } from '../examples/mnist.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'js' });
});
afterAll(async () => {
  await rt.dispose();
});

describe('examples', () => {
  it('flat minima: the logistic gradient matches finite differences', () => {
    const d = toyData(0);
    const g = new Float64Array(2);
    lossAndGrad(d, 0.7, -1.3, g);
    const e = 1e-6;
    expect(g[0]).toBeCloseTo((lossAndGrad(d, 0.7 + e, -1.3) - lossAndGrad(d, 0.7 - e, -1.3)) / (2 * e), 6);
    expect(g[1]).toBeCloseTo((lossAndGrad(d, 0.7, -1.3 + e) - lossAndGrad(d, 0.7, -1.3 - e)) / (2 * e), 6);
  });

  it('flat minima: IVON\'s h tracks the Hessian diagonal at its mean, so its ellipse is long along the flat direction', async () => {
    const r = await flatMinima(rt, 0);
    const [h0, h1] = hessianDiagonal(r.data, ...r.ivon.mean);
    expect(h0).toBeGreaterThan(3 * h1); // w₂'s input is scaled by 1/4: the loss is flat along w₂
    expect(r.ivon.hess[0]).toBeGreaterThan(r.ivon.hess[1]);
    for (const [h, truth] of [[r.ivon.hess[0], h0], [r.ivon.hess[1], h1]]) {
      expect(h / truth).toBeGreaterThan(0.5);
      expect(h / truth).toBeLessThan(2);
    }
    for (const j of [0, 1]) expect(r.ivon.sigma[j]).toBeCloseTo(1 / Math.sqrt(r.ivon.ess * (r.ivon.hess[j] + r.ivon.weightDecay)), 5);
    expect(r.ivon.sigma[1]).toBeGreaterThan(r.ivon.sigma[0]);
    // Both end lower than they started; AdamW (no prior) walks further out along the flat valley.
    const [a, i] = [r.paths.adamw[STEPS], r.paths.ivon[STEPS]];
    expect(lossAndGrad(r.data, ...a)).toBeLessThan(lossAndGrad(r.data, ...r.start));
    expect(lossAndGrad(r.data, ...i)).toBeLessThan(lossAndGrad(r.data, ...r.start));
    expect(Math.abs(a[1])).toBeGreaterThan(Math.abs(i[1]));
    const svg = flatMinimaSvg(r);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<ellipse');
    expect(svg.match(/<polyline/g)?.length).toBe(2);
  });

  it("MNIST: the package's 10 000 digits, every class, 28×28 pixels in [0, 1]", () => {
    const m = loadMnist();
    expect(m.rows).toBe(10_000);
    expect(m.x.length).toBe(m.rows * MNIST_SIDE * MNIST_SIDE);
    const counts = new Array(10).fill(0);
    for (const y of m.labels) counts[y]++;
    expect(counts.every((n) => n > 800)).toBe(true);
    expect(counts.reduce((s, n) => s + n, 0)).toBe(10_000);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of m.x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
  });
});
