// Shared fixtures of the federated tests: clients with per-element quadratic losses, whose exact
// Gaussian posterior and centralised posterior are closed-form (float64), and a seeded generator.
import type { Posterior } from '../src/posterior/types.js';
import { clientPrior, roundPrior, type AggregationRule } from '../src/federated/aggregate.js';
import type { Transport } from '../src/federated/transport.js';

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

/**
 * A client that "trains" to the exact posterior of its quadratic loss from the round's prior
 * (what IVON converges to): the prior is p₀ for 'product'/'fedavg' and the global for 'global-prior'.
 */
export function quadraticTrainer(c: QuadraticClient, rule: AggregationRule): (round: number, global: Posterior) => Promise<Posterior> {
  return async (_round, global) => {
    const prior = roundPrior(rule, global);
    const params: Record<string, Posterior['params'][string]> = {};
    for (const [name, shape] of Object.entries(c.shapes)) {
      const { priorPrecision, priorMean } = clientPrior(prior[name], c.ess);
      const n = priorPrecision.length;
      const mean = new Float32Array(n);
      const hess = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const p = c.ess * priorPrecision[j];
        mean[j] = (p * priorMean[j] - c.ess * c.b[name][j]) / (p + c.ess * c.a[name][j]);
        hess[j] = c.a[name][j];
      }
      params[name] = { shape, mean, hess, priorPrecision, priorMean, ess: c.ess };
    }
    return { params };
  };
}

/** Round 0's global posterior for a quadratic run: mean at the prior mean, precision = the prior's. */
export function initialGlobal(shapes: Record<string, number[]>, prior: AbsolutePriors, ess: number): Posterior {
  const params: Record<string, Posterior['params'][string]> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const priorPrecision = Float32Array.from(prior.precision[name], (p) => p / ess);
    params[name] = { shape, mean: Float32Array.from(prior.mean[name]), hess: new Float32Array(priorPrecision.length), priorPrecision, priorMean: Float32Array.from(prior.mean[name]), ess };
  }
  return { params };
}

export type FaultPolicy = (topic: string, payload: Uint8Array, count: number) => 'send' | 'drop' | 'duplicate';

/** Wraps a transport so the test decides, per publish, to send, drop or send twice. */
export function faultyTransport(inner: Transport, policy: FaultPolicy): Transport {
  const counts = new Map<string, number>();
  return {
    async publish(topic, payload, options) {
      const count = (counts.get(topic) ?? 0) + 1;
      counts.set(topic, count);
      const action = policy(topic, payload, count);
      if (action === 'drop') return;
      await inner.publish(topic, payload, options);
      if (action === 'duplicate') await inner.publish(topic, payload, options);
    },
    subscribe: (filter, handler) => inner.subscribe(filter, handler),
    close: () => inner.close(),
  };
}
