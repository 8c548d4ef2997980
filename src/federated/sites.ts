// The ADMM-style form of the rounds (docs/FEDERATED.md §2, IVON-ADMM): each client k owns a site
// t_k = (T_k, τ_k) in natural parameters — its dual variable in Möllenhoff et al.'s Bayesian reading
// of federated ADMM — and the global is q = p₀·Π_k t_k. A round: client k trains from its cavity
// q / t_k (the global without its own contribution), reaches q_k, and moves its site toward what its
// data added to the cavity, with damping ρ ∈ (0, 1]:
//   T_k ← (1−ρ)·T_k + ρ·(S_k − S_c),   τ_k ← (1−ρ)·τ_k + ρ·(S_k m_k − S_c m_c).
// ρ = 1 is partitioned variational inference's undamped update; on quadratic losses it is exact
// after one round. Pure float64 functions; the round protocol does not use them yet (each client
// would need its own cavity, i.e. one prior per client per round).

import { UsageError } from '../errors.js';
import type { AbsolutePrior } from '../posterior/product.js';
import type { ParamPosterior, Posterior } from '../posterior/types.js';

/** One client's site per parameter: precision T and natural mean τ = T·m̃ (zeros before its first round). */
export type Site = Record<string, { precision: Float64Array; natural: Float64Array }>;

export function emptySite(shapes: Readonly<Record<string, readonly number[]>>): Site {
  const out: Site = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    out[name] = { precision: new Float64Array(n), natural: new Float64Array(n) };
  }
  return out;
}

/** q = p₀·Π_k t_k as absolute precision and mean per parameter. */
export function globalOfSites(base: Readonly<Record<string, AbsolutePrior>>, sites: readonly Site[]): Record<string, AbsolutePrior> {
  const out: Record<string, AbsolutePrior> = {};
  for (const [name, b] of Object.entries(base)) {
    const precision = Float64Array.from(b.precision);
    const natural = new Float64Array(precision.length);
    for (let j = 0; j < natural.length; j++) natural[j] = precision[j] * b.mean[j];
    for (const s of sites) {
      const t = s[name];
      if (!t || t.precision.length !== precision.length) throw new UsageError(`globalOfSites: a site lacks '${name}' or has the wrong length; every site must cover the base's parameters`);
      for (let j = 0; j < natural.length; j++) {
        precision[j] += t.precision[j];
        natural[j] += t.natural[j];
      }
    }
    out[name] = meanForm(name, precision, natural);
  }
  return out;
}

/** Client k's prior for the round: the global without its own site, q / t_k. */
export function cavityOf(global: Readonly<Record<string, AbsolutePrior>>, site: Site): Record<string, AbsolutePrior> {
  const out: Record<string, AbsolutePrior> = {};
  for (const [name, g] of Object.entries(global)) {
    const t = site[name];
    const precision = new Float64Array(g.precision.length);
    const natural = new Float64Array(g.precision.length);
    for (let j = 0; j < precision.length; j++) {
      precision[j] = g.precision[j] - t.precision[j];
      natural[j] = g.precision[j] * g.mean[j] - t.natural[j];
    }
    out[name] = meanForm(name, precision, natural);
  }
  return out;
}

/** The damped site update from client k's posterior q_k, trained from `cavity`. */
export function updateSite(site: Site, posterior: Posterior, cavity: Readonly<Record<string, AbsolutePrior>>, rho: number): Site {
  if (!(rho > 0 && rho <= 1)) throw new UsageError(`updateSite: rho must be in (0, 1], not ${rho}`);
  const out: Site = {};
  for (const [name, t] of Object.entries(site)) {
    const q: ParamPosterior | undefined = posterior.params[name];
    const c = cavity[name];
    if (!q || q.mean.length !== t.precision.length) throw new UsageError(`updateSite: the posterior lacks '${name}' or has the wrong length`);
    const precision = new Float64Array(t.precision.length);
    const natural = new Float64Array(t.precision.length);
    for (let j = 0; j < precision.length; j++) {
      const s = q.ess * (q.hess[j] + q.priorPrecision[j]);
      precision[j] = (1 - rho) * t.precision[j] + rho * (s - c.precision[j]);
      natural[j] = (1 - rho) * t.natural[j] + rho * (s * q.mean[j] - c.precision[j] * c.mean[j]);
    }
    out[name] = { precision, natural };
  }
  return out;
}

function meanForm(name: string, precision: Float64Array, natural: Float64Array): AbsolutePrior {
  const mean = new Float32Array(precision.length);
  for (let j = 0; j < mean.length; j++) {
    if (!(precision[j] > 0)) throw new UsageError(`sites: '${name}'[${j}] has precision ${precision[j]} ≤ 0; damp the update (smaller rho) or bound the sites`);
    mean[j] = natural[j] / precision[j];
  }
  return { precision, mean };
}
