// The coordinator's arithmetic for one round (docs/FEDERATED.md §1-3), pure and order-independent
// (updates are combined in client-id order, so the same set of answers gives the same bits however
// they arrived). Three rules:
//   'product'      every client trains from the run's base prior p₀ (warm-started at the global
//                  mean); global_{r+1} = p₀·Π_k (q_k / p₀). Needs only IVON's scalar weight decay.
//   'global-prior' every client trains with round r's global posterior as its prior
//                  (priorMean = m_g, δ_k = S_g/ess_k); global_{r+1} = p₀·Π_k (q_k / q_r): each client's
//                  site is what its data added to the round prior, so data is never counted twice.
//   'fedavg'       FedAvg (McMahan et al. 2017): the ess-weighted average of the client means.
// Before any of them, each update is bounded (limits below): the documented cap on one client's
// influence.

import { UsageError } from '../errors.js';
import { checkParam, positiveHess, type AbsolutePrior } from '../posterior/product.js';
import type { ParamPosterior, Posterior } from '../posterior/types.js';

export type AggregationRule = 'product' | 'global-prior' | 'fedavg';
export const AGGREGATION_RULES: readonly AggregationRule[] = ['product', 'global-prior', 'fedavg'];

export interface InfluenceLimits {
  /** Largest ess (data-set size) a client may claim; an update over it is rejected. */
  maxEss: number;
  /** Largest per-element curvature h a client's site may carry; larger values are clipped to it (default 1e4). */
  maxCurvature?: number;
  /** Largest |m_k − μ| a client's mean may move from the round prior's mean; farther is clipped (default ∞). */
  maxMeanShift?: number;
}

export interface ClientUpdate {
  client: string;
  posterior: Posterior;
}

export interface BoundReport {
  /** Elements whose curvature or mean shift was clipped, by client id. */
  clipped: Record<string, number>;
}

/** The prior clients of round r train against, in absolute units: p₀ ('product', 'fedavg') or q_r ('global-prior'). */
export function roundPrior(rule: AggregationRule, global: Posterior): Record<string, AbsolutePrior> {
  const out: Record<string, AbsolutePrior> = {};
  for (const [name, p] of Object.entries(global.params)) {
    const precision = new Float64Array(p.mean.length);
    if (rule === 'global-prior') {
      for (let j = 0; j < precision.length; j++) precision[j] = p.ess * (p.hess[j] + p.priorPrecision[j]);
      out[name] = { precision, mean: p.mean };
    } else {
      for (let j = 0; j < precision.length; j++) precision[j] = p.ess * p.priorPrecision[j];
      out[name] = { precision, mean: p.priorMean };
    }
  }
  return out;
}

/** The base prior p₀ the global posterior carries (constant over the run). */
export function basePrior(global: Posterior): Record<string, AbsolutePrior> {
  return roundPrior('product', global);
}

/** A client's per-element prior in IVON's units for a round: δ_k = P/ess_k (float32), μ = prior mean. */
export function clientPrior(prior: AbsolutePrior, ess: number): { priorPrecision: Float32Array; priorMean: Float32Array } {
  if (!(Number.isFinite(ess) && ess > 0)) throw new UsageError(`clientPrior: ess is ${ess}; pass the client's ess (a finite number > 0)`);
  const priorPrecision = new Float32Array(prior.precision.length);
  for (let j = 0; j < priorPrecision.length; j++) priorPrecision[j] = prior.precision[j] / ess;
  return { priorPrecision, priorMean: Float32Array.from(prior.mean) };
}

/**
 * A client's update restated against the prior the coordinator sent it (whatever prior the client
 * claims is ignored), with its curvature clipped to maxCurvature and its mean to maxMeanShift.
 * Throws a UsageError when its ess is over maxEss.
 */
export function boundUpdate(update: ClientUpdate, prior: Readonly<Record<string, AbsolutePrior>>, limits: InfluenceLimits): { posterior: Posterior; clipped: number } {
  const maxCurvature = limits.maxCurvature ?? 1e4;
  const maxMeanShift = limits.maxMeanShift ?? Infinity;
  const params: Record<string, ParamPosterior> = {};
  let clipped = 0;
  for (const [name, p] of Object.entries(update.posterior.params)) {
    if (!(p.ess <= limits.maxEss)) {
      throw new UsageError(`client ${update.client} claims ess ${p.ess} for '${name}', over the coordinator's maxEss ${limits.maxEss}; it is rejected (raise maxEss if clients really hold that much data)`);
    }
    const { priorPrecision, priorMean } = clientPrior(prior[name], p.ess);
    // Copied only when something is clipped: an honest update is used as it came.
    let hess = p.hess;
    let mean = p.mean;
    for (let j = 0; j < hess.length; j++) {
      let h = hess[j];
      let m = mean[j];
      const d = priorPrecision[j];
      const shift = m - priorMean[j];
      if (h <= maxCurvature && h + d > 0 && Math.abs(shift) <= maxMeanShift) continue;
      if (hess === p.hess) hess = Float32Array.from(p.hess);
      if (mean === p.mean) mean = Float32Array.from(p.mean);
      if (h > maxCurvature) h = maxCurvature;
      if (!(h + d > 0)) h = Math.fround(-d + Math.abs(d) * 2 ** -20 + Number.MIN_VALUE);
      if (Math.abs(shift) > maxMeanShift) m = priorMean[j] + Math.sign(shift) * maxMeanShift;
      hess[j] = h;
      mean[j] = m;
      clipped++;
    }
    params[name] = { shape: p.shape, mean, hess, priorPrecision, priorMean, ess: p.ess };
  }
  return { posterior: { params }, clipped };
}

/**
 * Round r → r+1: the new global posterior from round r's global and the clients' (already decoded)
 * updates. Updates are bounded, sorted by client id, then combined by the rule.
 */
export function aggregateRound(
  rule: AggregationRule,
  global: Posterior,
  updates: readonly ClientUpdate[],
  limits: InfluenceLimits,
  options: RoundOptions = {},
): { global: Posterior; clampedTotal: number; report: BoundReport } {
  checkDamping('aggregateRound', options.damping);
  if (!AGGREGATION_RULES.includes(rule)) throw new UsageError(`aggregateRound: rule ${JSON.stringify(rule)} is not one of ${AGGREGATION_RULES.join(', ')}`);
  if (updates.length === 0) throw new UsageError('aggregateRound: no updates; a round needs at least one client’s answer');
  const ids = updates.map((u) => u.client);
  if (new Set(ids).size !== ids.length) throw new UsageError(`aggregateRound: client ids repeat (${ids.join(', ')}); pass one update per client`);
  for (const u of updates) {
    const names = Object.keys(u.posterior?.params ?? {}).sort();
    const want = Object.keys(global.params).sort();
    if (names.join('\0') !== want.join('\0')) throw new UsageError(`aggregateRound: client ${u.client} has parameters [${names.join(', ')}] but the global has [${want.join(', ')}]`);
    for (const name of names) checkParam(`aggregateRound: client ${u.client} '${name}'`, u.posterior.params[name], global.params[name].shape);
  }
  return aggregateValidated(rule, global, updates, limits, options);
}

export interface RoundOptions {
  /**
   * ρ ∈ (0, 1]: the new global's natural parameters move only this fraction of the way from q_r to
   * the rule's result, (S, S·m) ← (1−ρ)·(S_r, S_r·m_r) + ρ·(S, S·m). Default 1 (no damping). Exact
   * rules stay exact at their fixed point; damping steadies rounds whose sites overshoot (a curvature
   * estimate lagging the mean, non-IID clients pulling apart).
   */
  damping?: number;
}

export function checkDamping(where: string, damping: number | undefined): number {
  if (damping === undefined) return 1;
  if (typeof damping !== 'number' || !(damping > 0 && damping <= 1)) throw new UsageError(`${where}: damping must be in (0, 1], not ${String(damping)}`);
  return damping;
}

/** (1−ρ)·q_r + ρ·q in natural parameters, expressed with q's ess and prior. */
function damp(old: Posterior, next: Posterior, rho: number): Posterior {
  if (rho === 1) return next;
  const params: Record<string, ParamPosterior> = {};
  for (const [name, q] of Object.entries(next.params)) {
    const o = old.params[name];
    const n = q.mean.length;
    const mean = new Float32Array(n);
    const hess = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const sOld = o.ess * (o.hess[j] + o.priorPrecision[j]);
      const sNew = q.ess * (q.hess[j] + q.priorPrecision[j]);
      const s = (1 - rho) * sOld + rho * sNew;
      mean[j] = ((1 - rho) * sOld * o.mean[j] + rho * sNew * q.mean[j]) / s;
      hess[j] = positiveHess(s / q.ess - q.priorPrecision[j], q.priorPrecision[j]);
    }
    params[name] = { ...q, mean, hess };
  }
  return { params };
}

/**
 * aggregateRound for updates already validated (the coordinator's, checked by decodeMessage on
 * arrival): bounding and the product run fused, one pass per client and no per-client copies. The
 * arithmetic is boundUpdate's and productOfSites' (the aggregate test checks the bits agree).
 */
export function aggregateValidated(
  rule: AggregationRule,
  global: Posterior,
  updates: readonly ClientUpdate[],
  limits: InfluenceLimits,
  options: RoundOptions = {},
): { global: Posterior; clampedTotal: number; report: BoundReport } {
  const rho = checkDamping('aggregateValidated', options.damping);
  const sorted = [...updates].sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
  const prior = roundPrior(rule, global);
  const report: BoundReport = { clipped: {} };
  if (rule === 'fedavg') {
    const bounded = sorted.map((u) => {
      const { posterior, clipped } = boundUpdate(u, prior, limits);
      if (clipped > 0) report.clipped[u.client] = clipped;
      return posterior;
    });
    return { global: fedAvg(global, bounded), clampedTotal: 0, report };
  }
  for (const u of sorted) {
    for (const [name, p] of Object.entries(u.posterior.params)) {
      if (!(p.ess <= limits.maxEss)) {
        throw new UsageError(`client ${u.client} claims ess ${p.ess} for '${name}', over the coordinator's maxEss ${limits.maxEss}; it is rejected (raise maxEss if clients really hold that much data)`);
      }
    }
  }
  const base = basePrior(global);
  const params: Record<string, ParamPosterior> = {};
  let clampedTotal = 0;
  for (const name of Object.keys(global.params).sort()) {
    const members = sorted.map((u) => u.posterior.params[name]);
    const { param, clamped, clipped } = boundedProduct(base[name], prior[name], members, limits);
    params[name] = param;
    clampedTotal += clamped;
    clipped.forEach((count, k) => {
      if (count > 0) report.clipped[sorted[k].client] = (report.clipped[sorted[k].client] ?? 0) + count;
    });
  }
  return { global: damp(global, { params }, rho), clampedTotal, report };
}

const MIN_PRECISION_RATIO = 1e-3;

/** One parameter: each member bounded against the round prior (boundUpdate's rules) and multiplied in (productOfSites'). */
function boundedProduct(base: AbsolutePrior, round: AbsolutePrior, members: readonly ParamPosterior[], limits: InfluenceLimits) {
  const maxCurvature = limits.maxCurvature ?? 1e4;
  const maxMeanShift = limits.maxMeanShift ?? Infinity;
  const n = members[0].mean.length;
  const ess = members.reduce((sum, p) => sum + p.ess, 0);
  const roundP = round.precision;
  const roundMean = round.mean;
  const precision = Float64Array.from(base.precision);
  const natural = new Float64Array(n);
  for (let j = 0; j < n; j++) natural[j] = precision[j] * base.mean[j];
  const largest = new Float32Array(n);
  const clipped = members.map(() => 0);
  // The bounded (h, m) of member k at element j, exactly as boundUpdate stores them (float32).
  const bounded = (p: ParamPosterior, d: number, j: number, k: number): [number, number] => {
    let h = p.hess[j];
    let m = p.mean[j];
    const shift = m - roundMean[j];
    if (h <= maxCurvature && h + d > 0 && Math.abs(shift) <= maxMeanShift) return [h, m];
    if (k >= 0) clipped[k]++;
    if (h > maxCurvature) h = maxCurvature;
    if (!(h + d > 0)) h = Math.fround(-d + Math.abs(d) * 2 ** -20 + Number.MIN_VALUE);
    if (Math.abs(shift) > maxMeanShift) m = roundMean[j] + Math.sign(shift) * maxMeanShift;
    return [Math.fround(h), Math.fround(m)];
  };
  members.forEach((p, k) => {
    const e = p.ess;
    const { hess, mean } = p;
    for (let j = 0; j < n; j++) {
      const d = Math.fround(roundP[j] / e);
      let h = hess[j];
      let m = mean[j];
      if (!(h <= maxCurvature && h + d > 0 && Math.abs(m - roundMean[j]) <= maxMeanShift)) [h, m] = bounded(p, d, j, k);
      const s = e * (h + d);
      const pk = e * d;
      precision[j] += s - pk;
      natural[j] += s * m - pk * roundMean[j];
      if (s > largest[j]) largest[j] = s;
    }
  });
  const meanOut = new Float32Array(n);
  const hessOut = new Float32Array(n);
  const priorPrecisionOut = new Float32Array(n);
  let clamped = 0;
  for (let j = 0; j < n; j++) {
    let sg = precision[j];
    let m: number;
    const floor = MIN_PRECISION_RATIO * largest[j];
    if (!(sg >= floor)) {
      let weightSum = 0;
      let weightedMeans = 0;
      for (const p of members) {
        const d = Math.fround(roundP[j] / p.ess);
        const [h, mk] = bounded(p, d, j, -1);
        const s = p.ess * (h + d);
        weightSum += s;
        weightedMeans += s * mk;
      }
      sg = floor;
      m = weightedMeans / weightSum;
      clamped++;
    } else {
      m = natural[j] / sg;
    }
    const delta = base.precision[j] / ess;
    meanOut[j] = m;
    priorPrecisionOut[j] = delta;
    hessOut[j] = positiveHess(sg / ess - delta, priorPrecisionOut[j]);
  }
  const param: ParamPosterior = { shape: [...members[0].shape], mean: meanOut, hess: hessOut, priorPrecision: priorPrecisionOut, priorMean: Float32Array.from(base.mean), ess };
  return { param, clamped, clipped };
}

/** FedAvg: m_g = Σ_k ess_k m_k / Σ_k ess_k (float64), the rest of the global posterior unchanged. */
export function fedAvg(global: Posterior, posteriors: readonly Posterior[]): Posterior {
  const params: Record<string, ParamPosterior> = {};
  for (const [name, g] of Object.entries(global.params)) {
    const sum = new Float64Array(g.mean.length);
    let weight = 0;
    for (const p of posteriors) {
      const q = p.params[name];
      weight += q.ess;
      for (let j = 0; j < sum.length; j++) sum[j] += q.ess * q.mean[j];
    }
    const mean = new Float32Array(sum.length);
    for (let j = 0; j < sum.length; j++) mean[j] = sum[j] / weight;
    params[name] = { ...g, mean };
  }
  return { params };
}
