// The precision-weighted product of diagonal Gaussian posteriors (docs/FEDERATED.md §1). K clients
// that trained from one shared prior p₀ = N(m₀, P₀⁻¹) on disjoint data each hold q_k ∝ p₀·L_k, so
// the posterior of all the data is p₀·Π_k (q_k / p₀): in natural parameters, elementwise,
//   S_g = P₀ + Σ_k (S_k − P₀),   S_g m_g = P₀ m₀ + Σ_k (S_k m_k − P₀ m₀),   S_k = ess_k·(h_k + δ_k).
// productOfSites is the general form (each posterior's own prior is divided out and a chosen base
// prior multiplied in), which the iterative federated rounds need; productOfPosteriors is the
// one-shot case where the base is the prior every posterior shares. Everything is computed in
// float64 and rounded to float32 once. Pure: inputs are never modified.

import { UsageError } from '../errors.js';
import type { ParamPosterior, Posterior } from './types.js';

/** A diagonal Gaussian prior per parameter in absolute units: precision P (> 0 or 0) and mean. */
export interface AbsolutePrior {
  readonly precision: Float64Array | Float32Array;
  readonly mean: Float32Array;
}

export interface ProductOptions {
  /**
   * Where the summed precision falls below this fraction of the largest client precision of that
   * element (negative curvature estimates can cause it), the element is clamped to that floor and
   * its mean becomes the precision-weighted average of the client means. Default 1e-3.
   */
  minPrecisionRatio?: number;
  /**
   * Relative tolerance for "the posteriors share one prior" (ess_k·δ_k and m₀ compared across
   * clients; δ_k = P₀/ess_k is rounded to float32 by each client). Default 1e-5.
   */
  priorTolerance?: number;
}

export interface ProductResult {
  readonly posterior: Posterior;
  /** Elements whose precision was clamped (the sum fell below the floor), by parameter. */
  readonly clamped: Readonly<Record<string, number>>;
  /** Total clamped elements over all parameters (0 when the product needed no clamping). */
  readonly clampedTotal: number;
}

const DEFAULT_MIN_PRECISION_RATIO = 1e-3;
const DEFAULT_PRIOR_TOLERANCE = 1e-5;

/**
 * One-shot product of posteriors trained from one shared prior (same ess·δ and priorMean per
 * element): the posterior of the union of their data. Throws a UsageError when they do not share
 * a prior (use productOfSites with an explicit base then).
 */
export function productOfPosteriors(posteriors: readonly Posterior[], options: ProductOptions = {}): ProductResult {
  const names = checkPosteriors('productOfPosteriors', posteriors);
  const tolerance = checkRatio('productOfPosteriors', 'priorTolerance', options.priorTolerance, DEFAULT_PRIOR_TOLERANCE);
  const base: Record<string, AbsolutePrior> = {};
  for (const name of names) base[name] = sharedPrior(name, posteriors, tolerance);
  return productOfSites(base, posteriors, options);
}

/**
 * The general product: S_g = P_base + Σ_k (S_k − P_k), S_g m_g = P_base m_base + Σ_k (S_k m_k − P_k μ_k),
 * where P_k = ess_k·δ_k and μ_k are posterior k's own prior. The result's prior is the base; its
 * ess is Σ_k ess_k, so its hess is S_g/ess − δ with δ = P_base/ess.
 */
export function productOfSites(base: Readonly<Record<string, AbsolutePrior>>, posteriors: readonly Posterior[], options: ProductOptions = {}): ProductResult {
  const names = checkPosteriors('productOfSites', posteriors);
  const minRatio = checkRatio('productOfSites', 'minPrecisionRatio', options.minPrecisionRatio, DEFAULT_MIN_PRECISION_RATIO);
  if (minRatio === 0) throw new UsageError('productOfSites: minPrecisionRatio must be > 0 (a zero floor would allow a zero precision); pass a number in (0, 1)');
  checkBase(names, posteriors, base);
  return combineSites(base, posteriors, minRatio);
}

/**
 * productOfSites without its checks, for callers that have validated the posteriors and the base
 * themselves (the coordinator validates every message on arrival). minRatio must be in (0, 1).
 */
export function combineSites(base: Readonly<Record<string, AbsolutePrior>>, posteriors: readonly Posterior[], minRatio = DEFAULT_MIN_PRECISION_RATIO): ProductResult {
  const names = Object.keys(posteriors[0].params).sort();
  const params: Record<string, ParamPosterior> = {};
  const clamped: Record<string, number> = {};
  let clampedTotal = 0;
  for (const name of names) {
    const members = posteriors.map((p) => p.params[name]);
    const { param, clampedCount } = productOfParam(base[name], members, minRatio);
    params[name] = param;
    if (clampedCount > 0) clamped[name] = clampedCount;
    clampedTotal += clampedCount;
  }
  return { posterior: { params }, clamped, clampedTotal };
}

/** The absolute precision ess·(hess + δ) of one element, in float64. */
export function precisionOf(p: ParamPosterior, j: number): number {
  return p.ess * (p.hess[j] + p.priorPrecision[j]);
}

function productOfParam(base: AbsolutePrior, members: readonly ParamPosterior[], minRatio: number): { param: ParamPosterior; clampedCount: number } {
  const n = members[0].mean.length;
  const ess = members.reduce((sum, p) => sum + p.ess, 0);
  // Member by member over contiguous arrays (the sums run in member order for every element, so
  // the result does not depend on how the loop is arranged).
  const precision = Float64Array.from(base.precision);
  const natural = new Float64Array(n);
  for (let j = 0; j < n; j++) natural[j] = precision[j] * base.mean[j];
  const largest = new Float32Array(n);
  for (const p of members) {
    const { hess, priorPrecision, priorMean } = p;
    const m = p.mean;
    const e = p.ess;
    for (let j = 0; j < n; j++) {
      const s = e * (hess[j] + priorPrecision[j]);
      const pk = e * priorPrecision[j];
      precision[j] += s - pk;
      natural[j] += s * m[j] - pk * priorMean[j];
      if (s > largest[j]) largest[j] = s;
    }
  }
  const mean = new Float32Array(n);
  const hessOut = new Float32Array(n);
  const priorPrecisionOut = new Float32Array(n);
  let clampedCount = 0;
  for (let j = 0; j < n; j++) {
    let sg = precision[j];
    let m: number;
    const floor = minRatio * largest[j];
    if (!(sg >= floor)) {
      // Clamped: the precision-weighted average of the client means (a convex combination).
      let weightSum = 0;
      let weightedMeans = 0;
      for (const p of members) {
        const s = precisionOf(p, j);
        weightSum += s;
        weightedMeans += s * p.mean[j];
      }
      sg = floor;
      m = weightedMeans / weightSum;
      clampedCount++;
    } else {
      m = natural[j] / sg;
    }
    const delta = base.precision[j] / ess;
    mean[j] = m;
    priorPrecisionOut[j] = delta;
    hessOut[j] = positiveHess(sg / ess - delta, priorPrecisionOut[j]);
  }
  const param: ParamPosterior = {
    shape: [...members[0].shape],
    mean,
    hess: hessOut,
    priorPrecision: priorPrecisionOut,
    priorMean: Float32Array.from(base.mean),
    ess,
  };
  return { param, clampedCount };
}

/** h rounded to float32 so that the stored h + δ stays > 0 even where S/ess is tiny next to δ. */
export function positiveHess(h: number, delta32: number): number {
  let h32 = Math.fround(h);
  while (!(h32 + delta32 > 0)) h32 = Math.fround(h32 + Math.max(Math.abs(delta32), Number.MIN_VALUE) * 2 ** -23);
  return h32;
}

/** The prior all posteriors trained from, checked to agree: P₀ = ess_k·δ_k, m₀ = priorMean. */
function sharedPrior(name: string, posteriors: readonly Posterior[], tolerance: number): AbsolutePrior {
  const first = posteriors[0].params[name];
  const precision = new Float64Array(first.mean.length);
  for (let j = 0; j < precision.length; j++) precision[j] = first.ess * first.priorPrecision[j];
  posteriors.forEach((p, k) => {
    const q = p.params[name];
    for (let j = 0; j < precision.length; j++) {
      const pk = q.ess * q.priorPrecision[j];
      if (!closeTo(pk, precision[j], tolerance) || !closeTo(q.priorMean[j], first.priorMean[j], tolerance)) {
        throw new UsageError(
          `productOfPosteriors: posterior ${k} '${name}'[${j}] has prior (precision ${pk}, mean ${q.priorMean[j]}) but posterior 0 has (${precision[j]}, ${first.priorMean[j]}); ` +
            'the one-shot product needs one shared prior (same ess·priorPrecision and priorMean). Use productOfSites with an explicit base for posteriors trained from different priors',
        );
      }
    }
  });
  return { precision, mean: first.priorMean };
}

function closeTo(a: number, b: number, tolerance: number): boolean {
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b)) || a === b;
}

/** Validates the posteriors (same names and shapes, finite values, hess + δ > 0) and returns the names. */
function checkPosteriors(where: string, posteriors: readonly Posterior[]): string[] {
  if (!Array.isArray(posteriors) || posteriors.length === 0) {
    throw new UsageError(`${where}: pass a non-empty array of posteriors (got ${Array.isArray(posteriors) ? 'an empty array' : typeof posteriors})`);
  }
  const names = Object.keys(posteriors[0]?.params ?? {}).sort();
  if (names.length === 0) throw new UsageError(`${where}: posterior 0 has no parameters; pass posteriors with at least one parameter`);
  posteriors.forEach((p, k) => {
    const own = Object.keys(p?.params ?? {}).sort();
    if (own.join('\0') !== names.join('\0')) {
      throw new UsageError(`${where}: posterior ${k} has parameters [${own.join(', ')}] but posterior 0 has [${names.join(', ')}]; every posterior must cover the same parameters`);
    }
    for (const name of names) checkParam(`${where}: posterior ${k} '${name}'`, p.params[name], posteriors[0].params[name].shape);
  });
  return names;
}

/** One parameter's posterior: shape, array lengths, ess, and every element finite with hess + δ > 0. */
export function checkParam(where: string, p: ParamPosterior, shape: readonly number[]): void {
  if (!Array.isArray(p.shape) || p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
    throw new UsageError(`${where}: shape [${String(p.shape)}] differs from [${shape.join(', ')}]; all posteriors must come from the same model`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  for (const field of ['mean', 'hess', 'priorPrecision', 'priorMean'] as const) {
    const a = p[field];
    if (!(a instanceof Float32Array) || a.length !== count) {
      throw new UsageError(`${where}: ${field} must be a Float32Array of ${count} elements (shape [${shape.join(', ')}])`);
    }
  }
  if (!(typeof p.ess === 'number' && Number.isFinite(p.ess) && p.ess > 0)) {
    throw new UsageError(`${where}: ess is ${String(p.ess)}; it must be a finite number > 0`);
  }
  const { mean, hess, priorPrecision, priorMean, ess } = p;
  for (let j = 0; j < count; j++) {
    // One cheap test per element (x − x is 0 exactly when x is finite); the message comes after.
    const h = hess[j];
    const d = priorPrecision[j];
    if (mean[j] - mean[j] === 0 && priorMean[j] - priorMean[j] === 0 && d >= 0 && h + d > 0 && ess * (h + d) < Infinity) continue;
    const m = mean[j];
    const mu = priorMean[j];
    if (!Number.isFinite(m) || !Number.isFinite(h) || !Number.isFinite(d) || !Number.isFinite(mu)) {
      throw new UsageError(`${where}: element ${j} is not finite (mean ${m}, hess ${h}, priorPrecision ${d}, priorMean ${mu}); a posterior must hold finite numbers`);
    }
    throw new UsageError(`${where}: element ${j} has priorPrecision ${d} and hess ${h}; it needs priorPrecision ≥ 0 and 0 < hess + priorPrecision with a finite precision`);
  }
}

function checkBase(names: readonly string[], posteriors: readonly Posterior[], base: Readonly<Record<string, AbsolutePrior>>): void {
  if (typeof base !== 'object' || base === null) throw new UsageError('productOfSites: base must map every parameter name to { precision, mean }');
  for (const name of names) {
    const b = base[name];
    const n = posteriors[0].params[name].mean.length;
    if (!b || !(b.precision instanceof Float64Array || b.precision instanceof Float32Array) || !(b.mean instanceof Float32Array) || b.precision.length !== n || b.mean.length !== n) {
      throw new UsageError(`productOfSites: base '${name}' must be { precision: Float64Array | Float32Array, mean: Float32Array } of ${n} elements`);
    }
    for (let j = 0; j < n; j++) {
      if (!(b.precision[j] >= 0 && Number.isFinite(b.precision[j])) || !Number.isFinite(b.mean[j])) {
        throw new UsageError(`productOfSites: base '${name}'[${j}] has precision ${b.precision[j]} and mean ${b.mean[j]}; it needs a finite precision ≥ 0 and a finite mean`);
      }
    }
  }
}

function checkRatio(where: string, key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new UsageError(`${where}: ${key} is ${String(value)}; pass a number in [0, 1) or leave it out (default ${fallback})`);
  }
  return value;
}
