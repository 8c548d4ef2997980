// Real IVON clients (js backend) instead of exact posteriors: each trains on its own quadratic loss
// from the run's base prior (weightDecay = P₀/ess_k), and the product of their posteriors
// (posteriorOf → productOfPosteriors) lands on the centralised float64 posterior of all the data,
// within IVON's own statistical error (IVON.md §7: h → diag A, m → −(A + δ)⁻¹ b on quadratics).
import { describe, expect, it } from 'vitest';
import { createRuntime, IVON } from '../src/index.js';
import { posteriorOf } from '../src/posterior/state.js';
import { precisionOf, productOfPosteriors } from '../src/posterior/product.js';
import { seeded } from './federated-helpers.js';

const N = 24;
const P0 = 2;

describe('federated product of real IVON posteriors', () => {
  it('three IVON clients on quadratic losses combine into the centralised posterior (within IVON’s noise)', async () => {
    const rt = await createRuntime({ backend: 'js' });
    const rand = seeded(5);
    const clients = [40, 120, 300].map((ess) => ({ ess, a: Float64Array.from({ length: N }, () => 0.5 + 2 * rand()), b: Float64Array.from({ length: N }, () => 2 * rand() - 1) }));
    const posteriors = [];
    for (const [k, c] of clients.entries()) {
      const opt = new IVON(rt, { params: { w: new Float32Array(N) }, lr: 0.05, ess: c.ess, weightDecay: P0 / c.ess, hessInit: 1, beta2: 0.99, mcSamples: 16, seed: 10 + k });
      for (let step = 0; step < 800; step++) {
        for (let s = 0; s < 16; s++) {
          await opt.sampledParams((ctx) => {
            const t = ctx.theta('w');
            const g = ctx.grad('w');
            for (let i = 0; i < N; i++) g[i] = c.a[i] * t[i] + c.b[i];
          });
        }
        await opt.step();
      }
      posteriors.push(await posteriorOf(opt));
      opt.dispose();
    }
    const { posterior, clampedTotal } = productOfPosteriors(posteriors);
    expect(clampedTotal).toBe(0);
    const w = posterior.params.w;
    let worstPrecision = 0;
    let worstMean = 0;
    for (let i = 0; i < N; i++) {
      const S = P0 + clients.reduce((acc, c) => acc + c.ess * c.a[i], 0);
      const m = -clients.reduce((acc, c) => acc + c.ess * c.b[i], 0) / S;
      worstPrecision = Math.max(worstPrecision, Math.abs(precisionOf(w, i) / S - 1));
      worstMean = Math.max(worstMean, Math.abs(w.mean[i] - m));
    }
    // Measured: 0.039 and 0.011 (seeds fixed); the bounds leave room for IVON’s noise only.
    expect(worstPrecision).toBeLessThan(0.08);
    expect(worstMean).toBeLessThan(0.03);
    await rt.dispose();
  });
});
