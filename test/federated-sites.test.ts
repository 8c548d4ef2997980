// The ADMM-style site/cavity rounds (src/federated/sites.ts) on quadratic losses against the
// centralised float64 posterior: undamped (ρ = 1) they are exact after one round, as the IVON-ADMM
// paper's Newton-like variant; damped, the error shrinks by (1 − ρ) per round.
import { describe, expect, it } from 'vitest';
import { cavityOf, emptySite, globalOfSites, updateSite, type Site } from '../src/federated/sites.js';
import type { AbsolutePrior } from '../src/posterior/product.js';
import { centralised, exactClientPosterior, makeQuadraticClients } from './federated-helpers.js';

const SHAPES = { w: [4, 3], b: [3] };

function run(rho: number, rounds: number) {
  const { clients, prior } = makeQuadraticClients(SHAPES, [25, 75, 300, 40], 41);
  const base: Record<string, AbsolutePrior> = { w: { precision: prior.precision.w, mean: prior.mean.w }, b: { precision: prior.precision.b, mean: prior.mean.b } };
  let sites: Site[] = clients.map(() => emptySite(SHAPES));
  const want = centralised(clients, prior);
  const errors: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const global = globalOfSites(base, sites);
    sites = clients.map((c, k) => {
      const cavity = cavityOf(global, sites[k]);
      const q = exactClientPosterior(c, { precision: { w: cavity.w.precision as Float64Array, b: cavity.b.precision as Float64Array }, mean: { w: cavity.w.mean, b: cavity.b.mean } });
      return updateSite(sites[k], q, cavity, rho);
    });
    const after = globalOfSites(base, sites);
    let err = 0;
    for (const name of Object.keys(SHAPES)) {
      for (let j = 0; j < after[name].mean.length; j++) {
        err = Math.max(err, Math.abs(after[name].precision[j] / want[name].precision[j] - 1), Math.abs(after[name].mean[j] - want[name].mean[j]));
      }
    }
    errors.push(err);
  }
  return errors;
}

describe('site/cavity rounds (ADMM-style duals)', () => {
  it('undamped: exact after one round and a fixed point after', () => {
    for (const err of run(1, 3)) expect(err).toBeLessThan(5e-6);
  });

  it('damped by ρ: the error shrinks geometrically toward the centralised posterior', () => {
    const errors = run(0.5, 25);
    expect(errors[0]).toBeGreaterThan(1e-2);
    for (let r = 1; r < 12; r++) expect(errors[r]).toBeLessThan(errors[r - 1] * 0.75);
    expect(errors[24]).toBeLessThan(1e-5);
  });

  it('refuses ρ outside (0, 1]', () => {
    const site = emptySite(SHAPES);
    expect(() => updateSite(site, { params: {} }, {}, 0)).toThrow(/rho/);
    expect(() => updateSite(site, { params: {} }, {}, 1.5)).toThrow(/rho/);
  });
});
