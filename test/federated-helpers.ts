// Shared fixtures of the federated tests: clients with per-element quadratic losses, whose exact
// Gaussian posterior and centralised posterior are closed-form (float64), and a seeded generator.
import type { Posterior } from '../src/posterior/types.js';

export interface QuadraticClient {
  /** Effective sample size n_k (the loss is the mean over n_k points: n_k·ℓ_k is the total). */
  ess: number;
  /** Per element: curvature a > 0 and linear term b of ℓ_k(θ) = ½ a θ² + b θ. */
  a: Record<string, Float64Array>;
  b: Record<string, Float64Array>;
  shapes: Record<string, number[]>;
}

export interface AbsolutePriors {
  precision: Record<string, Float64Array>;
  mean: Record<string, Float32Array>;
}

/** Mulberry32: a tiny seeded generator for fixtures. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function makeQuadraticClients(shapes: Record<string, number[]>, essList: readonly number[], seed: number): { clients: QuadraticClient[]; prior: AbsolutePriors } {
  const rand = seeded(seed);
  const clients = essList.map((ess) => {
    const a: Record<string, Float64Array> = {};
    const b: Record<string, Float64Array> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const n = shape.reduce((x, y) => x * y, 1);
      a[name] = new Float64Array(n).map(() => 0.2 + 3 * rand());
      b[name] = new Float64Array(n).map(() => 2 * rand() - 1);
    }
    return { ess, a, b, shapes };
  });
  const prior: AbsolutePriors = { precision: {}, mean: {} };
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((x, y) => x * y, 1);
    prior.precision[name] = new Float64Array(n).map(() => 0.5 + 5 * rand());
    prior.mean[name] = new Float32Array(n).map(() => 0.4 * rand() - 0.2);
  }
  return { clients, prior };
}

/** The exact posterior of one client from a given prior, as IVON would hold it at convergence (float32). */
export function exactClientPosterior(c: QuadraticClient, prior: AbsolutePriors): Posterior {
  const params: Record<string, Posterior['params'][string]> = {};
  for (const [name, shape] of Object.entries(c.shapes)) {
    const n = c.a[name].length;
    const mean = new Float32Array(n);
    const hess = new Float32Array(n);
    const priorPrecision = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const p0 = prior.precision[name][j];
      const s = p0 + c.ess * c.a[name][j];
      mean[j] = (p0 * prior.mean[name][j] - c.ess * c.b[name][j]) / s;
      priorPrecision[j] = p0 / c.ess;
      hess[j] = c.a[name][j];
    }
    params[name] = { shape, mean, hess, priorPrecision, priorMean: Float32Array.from(prior.mean[name]), ess: c.ess };
  }
  return { params };
}

/** The posterior of all clients' data in float64: S = P₀ + Σ n_k a_k, S m = P₀ m₀ − Σ n_k b_k. */
export function centralised(clients: readonly QuadraticClient[], prior: AbsolutePriors): Record<string, { precision: Float64Array; mean: Float64Array }> {
  const out: Record<string, { precision: Float64Array; mean: Float64Array }> = {};
  for (const name of Object.keys(clients[0].shapes)) {
    const n = clients[0].a[name].length;
    const precision = new Float64Array(n);
    const mean = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = prior.precision[name][j];
      let natural = s * prior.mean[name][j];
      for (const c of clients) {
        s += c.ess * c.a[name][j];
        natural -= c.ess * c.b[name][j];
      }
      precision[j] = s;
      mean[j] = natural / s;
    }
    out[name] = { precision, mean };
  }
  return out;
}
