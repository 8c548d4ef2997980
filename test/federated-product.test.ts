// The product of posteriors (src/posterior/product.ts) against the centralised float64 answer for
// quadratic losses, where the Gaussian posterior is exact: client k with mean loss
// ℓ_k(θ) = ½ a_k θ² + b_k θ (per element) and prior N(m₀, P₀⁻¹) has S_k = P₀ + n_k a_k and
// S_k m_k = P₀ m₀ − n_k b_k; the posterior of all data has S = P₀ + Σ n_k a_k, S m = P₀ m₀ − Σ n_k b_k.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { productOfPosteriors, productOfSites, precisionOf } from '../src/posterior/product.js';
import type { ParamPosterior, Posterior } from '../src/posterior/types.js';
import { exactClientPosterior, makeQuadraticClients, centralised, type QuadraticClient } from './federated-helpers.js';

const SHAPES = { w: [3, 4], b: [4] };

function expectMatchesCentralised(result: Posterior, clients: readonly QuadraticClient[], prior: { precision: Record<string, Float64Array>; mean: Record<string, Float32Array> }): void {
  const want = centralised(clients, prior);
  for (const name of Object.keys(SHAPES)) {
    const got = result.params[name];
    for (let j = 0; j < got.mean.length; j++) {
      expect(precisionOf(got, j) / want[name].precision[j] - 1).toBeLessThan(2e-6);
      expect(Math.abs(got.mean[j] - want[name].mean[j])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want[name].mean[j])));
    }
  }
}

describe('productOfPosteriors', () => {
  it('equals the centralised float64 posterior of all clients’ data for quadratic losses (equal and unequal ess)', () => {
    for (const essList of [[100, 100, 100, 100, 100], [50, 400, 1200, 7, 90]]) {
      const { clients, prior } = makeQuadraticClients(SHAPES, essList, 1);
      const posteriors = clients.map((c) => exactClientPosterior(c, prior));
      const { posterior, clampedTotal } = productOfPosteriors(posteriors);
      expect(clampedTotal).toBe(0);
      expectMatchesCentralised(posterior, clients, prior);
      // The result keeps the shared prior and sums the ess.
      const w = posterior.params.w;
      expect(w.ess).toBe(essList.reduce((a, b) => a + b, 0));
      for (let j = 0; j < w.mean.length; j++) {
        expect(w.ess * w.priorPrecision[j]).toBeCloseTo(prior.precision.w[j], 3);
        expect(w.priorMean[j]).toBe(prior.mean.w[j]);
      }
    }
  });

  it('one client is its own product, and the order of the clients does not matter', () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [30, 60, 90], 2);
    const posteriors = clients.map((c) => exactClientPosterior(c, prior));
    const single = productOfPosteriors([posteriors[0]]).posterior.params.w;
    for (let j = 0; j < single.mean.length; j++) {
      expect(single.mean[j]).toBe(posteriors[0].params.w.mean[j]);
      expect(precisionOf(single, j) / precisionOf(posteriors[0].params.w, j) - 1).toBeLessThan(1e-6);
    }
    const forward = productOfPosteriors(posteriors).posterior.params.b;
    const backward = productOfPosteriors([...posteriors].reverse()).posterior.params.b;
    for (let j = 0; j < forward.mean.length; j++) expect(Math.abs(forward.mean[j] - backward.mean[j])).toBeLessThanOrEqual(2 ** -22 * Math.abs(forward.mean[j]));
  });

  it('does not modify its inputs', () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [10, 20], 3);
    const posteriors = clients.map((c) => exactClientPosterior(c, prior));
    const before = posteriors.map((p) => Array.from(p.params.w.mean).concat(Array.from(p.params.w.hess)));
    productOfPosteriors(posteriors);
    posteriors.forEach((p, k) => expect(Array.from(p.params.w.mean).concat(Array.from(p.params.w.hess))).toEqual(before[k]));
  });

  it('clamps a summed precision that falls below the floor, says so, and takes the precision-weighted client mean there', () => {
    // Two clients whose curvature is negative (IVON's h may go down to −δ): S_g = P₀ + Σ(S_k − P₀) < 0.
    const make = (mean: number): ParamPosterior => ({
      shape: [2],
      mean: new Float32Array([mean, mean]),
      hess: new Float32Array([-0.9, 1]),
      priorPrecision: new Float32Array([1, 1]),
      priorMean: new Float32Array([0, 0]),
      ess: 10,
    });
    const { posterior, clamped, clampedTotal } = productOfPosteriors([{ params: { v: make(1) } }, { params: { v: make(3) } }, { params: { v: make(5) } }]);
    expect(clampedTotal).toBe(1);
    expect(clamped).toEqual({ v: 1 });
    const v = posterior.params.v;
    // Element 0: S_k = 1 each, P₀ = 10: S_g = 10 + 3·(1 − 10) < 0 → floor = 1e-3·max S_k = 1e-3.
    // (Stored as hess = S/ess − δ in float32: a precision 10⁴× below the prior's keeps ~3 digits.)
    expect(Math.abs(precisionOf(v, 0) / 1e-3 - 1)).toBeLessThan(1e-3);
    expect(v.mean[0]).toBeCloseTo(3, 6);
    // Element 1 is an ordinary product: S_g = 10 + 3·(20 − 10) = 40, S_g m_g = 20·(1 + 3 + 5) = 180.
    expect(precisionOf(v, 1)).toBeCloseTo(40, 4);
    expect(v.mean[1]).toBeCloseTo(4.5, 6);
  });

  it('refuses posteriors that did not share a prior, and names productOfSites as the fix', () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [10, 20], 4);
    const posteriors = clients.map((c) => exactClientPosterior(c, prior));
    const w = posteriors[1].params.w;
    const shifted: Posterior = { params: { ...posteriors[1].params, w: { ...w, priorMean: w.priorMean.map((x) => x + 0.5) } } };
    expect(() => productOfPosteriors([posteriors[0], shifted])).toThrow(/shared prior.*productOfSites/);
  });

  it('rejects bad input with a UsageError before computing anything', () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [10, 20], 5);
    const [a, b] = clients.map((c) => exactClientPosterior(c, prior));
    const bad = (params: Partial<ParamPosterior>): Posterior => ({ params: { ...b.params, w: { ...b.params.w, ...params } } });
    expect(() => productOfPosteriors([])).toThrow(UsageError);
    expect(() => productOfPosteriors([a, { params: { w: b.params.w } }])).toThrow(/same parameters/);
    expect(() => productOfPosteriors([a, bad({ shape: [4, 3] })])).toThrow(/shape/);
    expect(() => productOfPosteriors([a, bad({ mean: new Float32Array(5) })])).toThrow(/Float32Array of 12/);
    const nan = Float32Array.from(b.params.w.mean);
    nan[3] = NaN;
    expect(() => productOfPosteriors([a, bad({ mean: nan })])).toThrow(/element 3 is not finite/);
    expect(() => productOfPosteriors([a, bad({ ess: 0 })])).toThrow(/ess/);
    expect(() => productOfPosteriors([a, bad({ hess: new Float32Array(12).fill(-5) })])).toThrow(/hess \+ priorPrecision/);
    expect(() => productOfPosteriors([a, b], { minPrecisionRatio: 0 })).toThrow(/minPrecisionRatio/);
  });
});

describe('productOfSites', () => {
  it('divides out each posterior’s own prior: clients trained from a round prior combine into the base-prior posterior exactly', () => {
    // Iterative form: round prior q_r (any Gaussian) is every client's prior; the sites q_k / q_r
    // of quadratic losses are exact, so base·Π sites is the centralised posterior again.
    const { clients, prior } = makeQuadraticClients(SHAPES, [40, 80, 120, 160], 6);
    const roundPrior = {
      precision: { w: new Float64Array(12).map((_, j) => 300 + 7 * j), b: new Float64Array(4).map((_, j) => 90 + j) },
      mean: { w: new Float32Array(12).map((_, j) => Math.sin(j)), b: new Float32Array(4).map((_, j) => Math.cos(j)) },
    };
    const posteriors = clients.map((c) => exactClientPosterior(c, roundPrior));
    const base = { w: { precision: prior.precision.w, mean: prior.mean.w }, b: { precision: prior.precision.b, mean: prior.mean.b } };
    const { posterior } = productOfSites(base, posteriors);
    expectMatchesCentralised(posterior, clients, prior);
  });
});
