// The coordinator's round arithmetic (src/federated/aggregate.ts) against centralised float64
// answers for quadratic losses, where every rule's fixed point is known exactly.
import { describe, expect, it } from 'vitest';
import { aggregateRound, basePrior, boundUpdate, fedAvg, roundPrior, type AggregationRule } from '../src/federated/aggregate.js';
import { encodeMessage } from '../src/federated/wire.js';
import { precisionOf, productOfPosteriors, productOfSites } from '../src/posterior/product.js';
import type { Posterior } from '../src/posterior/types.js';
import { centralised, initialGlobal, makeQuadraticClients, quadraticTrainer } from './federated-helpers.js';

const SHAPES = { w: [5, 3], b: [3] };
const LIMITS = { maxEss: 1e6 };

async function runRounds(rule: AggregationRule, rounds: number, essList: number[], seed: number) {
  const { clients, prior } = makeQuadraticClients(SHAPES, essList, seed);
  let global: Posterior = initialGlobal(SHAPES, prior, 100);
  const history: Posterior[] = [];
  for (let r = 0; r < rounds; r++) {
    const updates = await Promise.all(clients.map(async (c, k) => ({ client: `c${k}`, posterior: await quadraticTrainer(c, rule)(r, global) })));
    global = aggregateRound(rule, global, updates, LIMITS).global;
    history.push(global);
  }
  return { clients, prior, history };
}

function maxRelativeError(p: Posterior, want: ReturnType<typeof centralised>): { precision: number; mean: number } {
  let precision = 0;
  let mean = 0;
  for (const name of Object.keys(SHAPES)) {
    const q = p.params[name];
    for (let j = 0; j < q.mean.length; j++) {
      precision = Math.max(precision, Math.abs(precisionOf(q, j) / want[name].precision[j] - 1));
      mean = Math.max(mean, Math.abs(q.mean[j] - want[name].mean[j]) / Math.max(1, Math.abs(want[name].mean[j])));
    }
  }
  return { precision, mean };
}

describe('aggregateRound', () => {
  for (const rule of ['product', 'global-prior'] as const) {
    it(`${rule}: every round's global equals the centralised float64 posterior of all data (quadratic losses, unequal ess)`, async () => {
      const { clients, prior, history } = await runRounds(rule, 4, [30, 250, 80, 900, 12], 11);
      const want = centralised(clients, prior);
      for (const global of history) {
        const err = maxRelativeError(global, want);
        expect(err.precision).toBeLessThan(5e-6);
        expect(err.mean).toBeLessThan(5e-6);
      }
    });
  }

  it('damping ρ: the global moves ρ of the way each round and converges geometrically to the same posterior', async () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [30, 250, 80], 18);
    const want = centralised(clients, prior);
    let global: Posterior = initialGlobal(SHAPES, prior, 100);
    const errors: number[] = [];
    for (let r = 0; r < 30; r++) {
      const updates = await Promise.all(clients.map(async (c, k) => ({ client: `c${k}`, posterior: await quadraticTrainer(c, 'global-prior')(r, global) })));
      global = aggregateRound('global-prior', global, updates, LIMITS, { damping: 0.4 }).global;
      errors.push(Math.max(maxRelativeError(global, want).precision, maxRelativeError(global, want).mean));
    }
    expect(errors[0]).toBeGreaterThan(0.05);
    for (let r = 1; r < 10; r++) expect(errors[r]).toBeLessThan(errors[r - 1]);
    expect(errors[29]).toBeLessThan(1e-4);
    expect(() => aggregateRound('global-prior', global, [], LIMITS, { damping: 0 })).toThrow(/damping/);
  });

  it('why the sites divide out the round prior: a plain product against q_r counts the data once per round', async () => {
    // The product taken against q_r (as if q_r were the shared prior) keeps q_r's data and adds it again.
    const { clients, prior } = makeQuadraticClients(SHAPES, [50, 50, 50], 12);
    let global: Posterior = initialGlobal(SHAPES, prior, 100);
    for (let r = 0; r < 3; r++) {
      const posteriors = await Promise.all(clients.map((c) => quadraticTrainer(c, 'global-prior')(r, global)));
      global = productOfPosteriors(posteriors).posterior;
    }
    const want = centralised(clients, prior);
    const data = want.w.precision[0] - prior.precision.w[0];
    // After 3 rounds: P₀ + 3·(data precision), where the right answer is P₀ + 1·(data precision).
    expect(precisionOf(global.params.w, 0)).toBeCloseTo(prior.precision.w[0] + 3 * data, 1);
  });

  it('is independent of the order the answers arrived in, bit for bit', async () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [10, 20, 30, 40], 13);
    const global = initialGlobal(SHAPES, prior, 100);
    const updates = await Promise.all(clients.map(async (c, k) => ({ client: `c${k}`, posterior: await quadraticTrainer(c, 'global-prior')(0, global) })));
    const bytes = (u: typeof updates) =>
      encodeMessage({ kind: 'global', session: 's', round: 1, sender: 'coordinator', final: false, posterior: aggregateRound('global-prior', global, u, LIMITS).global });
    expect(bytes([...updates].reverse())).toEqual(bytes(updates));
    expect(bytes([updates[2], updates[0], updates[3], updates[1]])).toEqual(bytes(updates));
  });

  it('its fused pass gives the bits of boundUpdate followed by productOfSites, clipping and clamping included', async () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [10, 20, 30, 40], 17);
    const global = initialGlobal(SHAPES, prior, 100);
    for (const rule of ['product', 'global-prior'] as const) {
      const updates = await Promise.all(clients.map(async (c, k) => ({ client: `c${k}`, posterior: await quadraticTrainer(c, rule)(0, global) })));
      // Client c1 sends huge curvatures and far means; every client has curvatures near −δ at the
      // first four elements of w, which drives the summed precision below the floor there.
      const w1 = updates[1].posterior.params.w;
      updates[1].posterior = { params: { ...updates[1].posterior.params, w: { ...w1, hess: w1.hess.map((h, j) => (j % 2 ? 1e9 : h)), mean: w1.mean.map((m, j) => (j % 3 ? m : 50)) } } };
      for (const u of updates) {
        const w = u.posterior.params.w;
        u.posterior = { params: { ...u.posterior.params, w: { ...w, hess: w.hess.map((h, j) => (j < 4 ? -0.999 * w.priorPrecision[j] : h)) } } };
      }
      const limits = { maxEss: 1000, maxCurvature: 50, maxMeanShift: 3 };
      const fused = aggregateRound(rule, global, updates, limits);
      const prior0 = roundPrior(rule, global);
      const reference = productOfSites(basePrior(global), updates.map((u) => boundUpdate(u, prior0, limits).posterior));
      const bytes = (p: Posterior) => encodeMessage({ kind: 'global', session: 's', round: 1, sender: 'coordinator', final: false, posterior: p });
      expect(bytes(fused.global)).toEqual(bytes(reference.posterior));
      expect(fused.clampedTotal).toBe(reference.clampedTotal);
      expect(fused.clampedTotal).toBeGreaterThan(0);
      expect(fused.report.clipped.c1).toBeGreaterThan(0);
    }
  });

  it('fedavg is the ess-weighted mean of the client means (float64 reference)', async () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [10, 30, 60], 14);
    const global = initialGlobal(SHAPES, prior, 100);
    const posteriors = await Promise.all(clients.map((c) => quadraticTrainer(c, 'fedavg')(0, global)));
    const avg = fedAvg(global, posteriors);
    for (let j = 0; j < 15; j++) {
      const want = (10 * posteriors[0].params.w.mean[j] + 30 * posteriors[1].params.w.mean[j] + 60 * posteriors[2].params.w.mean[j]) / 100;
      expect(avg.params.w.mean[j]).toBe(Math.fround(want));
    }
    expect(avg.params.w.hess).toBe(global.params.w.hess);
  });
});

describe('boundUpdate: the cap on one client’s influence', () => {
  it('clips an absurd curvature to maxCurvature and a far mean to maxMeanShift, and ignores the prior a client claims', async () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [100, 100, 100], 15);
    const global = initialGlobal(SHAPES, prior, 100);
    const honest = await Promise.all(clients.map((c) => quadraticTrainer(c, 'global-prior')(0, global)));
    const h = honest[2].params.w;
    const hostile: Posterior = {
      params: {
        ...honest[2].params,
        w: { ...h, hess: h.hess.map(() => 1e30), mean: h.mean.map(() => 1e6), priorPrecision: h.priorPrecision.map(() => 0), priorMean: h.priorMean.map(() => 1e6) },
      },
    };
    const limits = { maxEss: 1000, maxCurvature: 10, maxMeanShift: 2 };
    const { posterior, clipped } = boundUpdate({ client: 'c2', posterior: hostile }, roundPrior('global-prior', global), limits);
    expect(clipped).toBe(15); // elements: each had both its curvature and its mean clipped
    const { priorPrecision, priorMean } = honest[2].params.w; // the coordinator's own view of c2's prior
    expect(posterior.params.w.priorPrecision).toEqual(priorPrecision);
    expect(posterior.params.w.priorMean).toEqual(priorMean);
    for (let j = 0; j < 15; j++) {
      expect(posterior.params.w.hess[j]).toBe(10);
      expect(posterior.params.w.mean[j]).toBe(Math.fround(priorMean[j] + 2));
    }
    // In the product the hostile client's site is (T, T·m + P·(m − μ)) with T ≤ ess·maxCurvature and
    // |m − μ| ≤ maxMeanShift (P = its round prior's precision), so it moves each weight by at most
    // (T·|m − m_rest| + P·maxMeanShift) / S_g — however absurd the numbers it sent.
    const withHostile = aggregateRound('global-prior', global, [{ client: 'a', posterior: honest[0] }, { client: 'b', posterior: honest[1] }, { client: 'm', posterior: hostile }], limits).global;
    const withoutIt = aggregateRound('global-prior', global, [{ client: 'a', posterior: honest[0] }, { client: 'b', posterior: honest[1] }], limits).global;
    const roundP = roundPrior('global-prior', global).w.precision;
    for (let j = 0; j < 15; j++) {
      const rest = withoutIt.params.w.mean[j];
      const bound = (100 * 10 * Math.abs(posterior.params.w.mean[j] - rest) + roundP[j] * 2) / precisionOf(withHostile.params.w, j);
      const move = Math.abs(withHostile.params.w.mean[j] - rest);
      expect(move).toBeGreaterThan(0);
      expect(move).toBeLessThanOrEqual(bound * (1 + 1e-5) + 1e-6);
    }
  });

  it('rejects a client whose ess is over maxEss', async () => {
    const { clients, prior } = makeQuadraticClients(SHAPES, [5000], 16);
    const global = initialGlobal(SHAPES, prior, 100);
    const p = await quadraticTrainer(clients[0], 'product')(0, global);
    expect(() => boundUpdate({ client: 'x', posterior: p }, roundPrior('product', global), { maxEss: 1000 })).toThrow(/over the coordinator's maxEss 1000/);
  });
});
