// Merging posteriors of models fine-tuned from one base (Daheim, Möllenhoff, Ponti, Gurevych & Khan,
// "Model Merging by Uncertainty-Based Gradient Matching", ICLR 2024), elementwise:
//   θ_M = θ₀ + α·H̄⁻¹ Σ_t (H₀ + H_t)(θ_t − θ₀),   H̄ = H₀ + α Σ_t H_t,
// H_t = ess_t·max(h_t, 0) each task's data curvature, H₀ = ess_t·δ_t the prior precision the tasks
// were fine-tuned with (shared). Exact for quadratic task losses when every task was fine-tuned
// with its prior centred at θ₀ (docs/POSTERIOR.md §4). Also loadPosterior: a Posterior into an IVON
// optimizer, as its state or as the prior of further training. Pure float64 inside; inputs are
// never modified. Mode 'product' delegates to the precision-weighted product of posteriors trained
// on disjoint data from one shared prior (product.ts).
import { UsageError } from '../errors.js';
import { IVON } from '../optim/ivon.js';
import { productOfPosteriors } from './product.js';
import { priorOf, requireIvon, trainableNames } from './state.js';
import type { ParamPosterior, Posterior } from './types.js';

/** Tasks fine-tuned from `base` (Daheim et al.): θ_M = θ₀ + α·H̄⁻¹ Σ_t (H₀ + H_t)(θ_t − θ₀). */
export interface FineTunedMergeOptions {
  mode?: 'fine-tuned';
  /** α > 0: how much of each task's update to keep (1 = the sum of the tasks' data). */
  scale: number;
  /** Relative tolerance for "the tasks share one prior precision" (default 1e-5). */
  priorTolerance?: number;
}

/**
 * Posteriors trained on disjoint data from one shared prior: their precision-weighted product,
 * the posterior of all the data (productOfPosteriors, src/posterior/product.ts). `base` only fixes
 * the layout here; the shared prior is the tasks' own (checked).
 */
export interface ProductMergeOptions {
  mode: 'product';
  priorTolerance?: number;
  /** Floor of the summed precision, as a fraction of the largest task precision (default 1e-3). */
  minPrecisionRatio?: number;
}

export type MergeOptions = FineTunedMergeOptions | ProductMergeOptions;

export interface LoadPosteriorOptions {
  /**
   * Also make the posterior the prior of further training: priorMean ← its mean, priorPrecision ←
   * its precision (in the optimizer's ess units), and the curvature h restarts at hessInit (the
   * posterior's curvature now lives in the prior; keeping it in h too would count it twice).
   */
  asPrior?: boolean;
}

const isArray = (v: unknown, n: number) => v instanceof Float32Array && v.length === n;

/** Validates one parameter posterior; returns its element count. */
function checkParam(fn: string, where: string, p: ParamPosterior | undefined): number {
  if (!p || typeof p !== 'object') throw new UsageError(`${fn}: ${where} is missing`);
  if (!Array.isArray(p.shape) || !p.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new UsageError(`${fn}: ${where}.shape must be an array of non-negative integers`);
  const n = p.shape.reduce((a, b) => a * b, 1);
  for (const key of ['mean', 'hess', 'priorPrecision', 'priorMean'] as const) {
    if (!isArray(p[key], n)) throw new UsageError(`${fn}: ${where}.${key} must be a Float32Array of ${n} elements (shape [${p.shape.join(', ')}])`);
    const a = p[key];
    for (let j = 0; j < n; j++) if (!Number.isFinite(a[j])) throw new UsageError(`${fn}: ${where}.${key} has a non-finite value ${a[j]} at index ${j}`);
  }
  if (!(typeof p.ess === 'number' && Number.isFinite(p.ess) && p.ess > 0)) throw new UsageError(`${fn}: ${where}.ess must be a finite number > 0, got ${String(p.ess)}`);
  for (let j = 0; j < n; j++) {
    if (!(p.priorPrecision[j] >= 0)) throw new UsageError(`${fn}: ${where}.priorPrecision must be ≥ 0, index ${j} has ${p.priorPrecision[j]}`);
    if (!(p.hess[j] + p.priorPrecision[j] > 0)) throw new UsageError(`${fn}: ${where}.hess + priorPrecision must be > 0 (a positive precision), index ${j} has ${p.hess[j]} + ${p.priorPrecision[j]}`);
  }
  return n;
}

function paramsOf(fn: string, label: string, p: Posterior): Readonly<Record<string, ParamPosterior>> {
  if (!p || typeof p !== 'object' || !p.params || typeof p.params !== 'object') throw new UsageError(`${fn}: ${label} must be a Posterior ({ params }), e.g. from await posteriorOf(opt)`);
  return p.params;
}

/** Same names and shapes in every posterior, each valid. */
function checkCompatible(fn: string, labelled: [string, Posterior][]): string[] {
  const [firstLabel, first] = labelled[0];
  const names = Object.keys(paramsOf(fn, firstLabel, first)).sort();
  if (names.length === 0) throw new UsageError(`${fn}: ${firstLabel} has no parameters`);
  for (const [label, p] of labelled) {
    const mine = Object.keys(paramsOf(fn, label, p)).sort();
    if (mine.join('\u0000') !== names.join('\u0000')) {
      throw new UsageError(`${fn}: ${label} holds parameters [${mine.join(', ')}] but ${firstLabel} holds [${names.join(', ')}]; merge posteriors of the same model layout`);
    }
    for (const name of names) {
      checkParam(fn, `${label}.params['${name}']`, p.params[name]);
      const a = first.params[name].shape;
      const b = p.params[name].shape;
      if (a.join(',') !== b.join(',')) throw new UsageError(`${fn}: '${name}' has shape [${b.join(', ')}] in ${label} but [${a.join(', ')}] in ${firstLabel}`);
    }
  }
  return names;
}

/** Uncertainty-based merge of task posteriors fine-tuned from `base` (its mean is θ₀). */
export function mergePosteriors(base: Posterior, tasks: readonly Posterior[], options: MergeOptions): Posterior {
  const fn = 'mergePosteriors';
  if (!Array.isArray(tasks) || tasks.length === 0) throw new UsageError(`${fn}: tasks must be a non-empty array of Posterior`);
  if (!options || typeof options !== 'object') throw new UsageError(`${fn}: options must be { scale: α } with α > 0, or { mode: 'product' }`);
  if (options.mode === 'product') {
    checkCompatible(fn, [['base', base], ...tasks.map((t, i): [string, Posterior] => [`tasks[${i}]`, t])]);
    if ('scale' in options) throw new UsageError(`${fn}: scale is for mode 'fine-tuned'; the product of posteriors has no α`);
    return productOfPosteriors(tasks, { priorTolerance: options.priorTolerance, minPrecisionRatio: options.minPrecisionRatio }).posterior;
  }
  if (options.mode !== undefined && options.mode !== 'fine-tuned') throw new UsageError(`${fn}: mode must be 'fine-tuned' (default) or 'product', got ${JSON.stringify(options.mode)}`);
  const alpha = options.scale;
  if (!(typeof alpha === 'number' && Number.isFinite(alpha) && alpha > 0)) throw new UsageError(`${fn}: scale must be a finite number > 0 (α = 1 adds the tasks' data in full), got ${String(alpha)}`);
  const tolerance = options.priorTolerance ?? 1e-5;
  if (!(typeof tolerance === 'number' && tolerance >= 0 && tolerance < 1)) throw new UsageError(`${fn}: priorTolerance must be in [0, 1), got ${String(tolerance)}`);
  const names = checkCompatible(fn, [['base', base], ...tasks.map((t, i): [string, Posterior] => [`tasks[${i}]`, t])]);
  const params: Record<string, ParamPosterior> = {};
  for (const name of names) {
    const theta0 = base.params[name].mean;
    const members = tasks.map((t) => t.params[name]);
    const n = theta0.length;
    const mean = new Float32Array(n);
    const hess = new Float32Array(n);
    const priorPrecision = new Float32Array(n);
    const essM = members.reduce((s, p) => s + p.ess, 0);
    for (let j = 0; j < n; j++) {
      const h0 = members[0].ess * members[0].priorPrecision[j];
      let dataPrecision = 0;
      let pull = 0;
      members.forEach((p, t) => {
        const mine = p.ess * p.priorPrecision[j];
        if (Math.abs(mine - h0) > tolerance * Math.max(Math.abs(h0), Math.abs(mine))) {
          throw new UsageError(
            `${fn}: tasks[${t}] was fine-tuned with prior precision ess·δ = ${mine} at '${name}'[${j}] but tasks[0] with ${h0}; merging assumes one shared prior — fine-tune every task with the same ess·priorPrecision`,
          );
        }
        const ht = p.ess * Math.max(p.hess[j], 0);
        dataPrecision += ht;
        pull += (h0 + ht) * (p.mean[j] - theta0[j]);
      });
      const total = h0 + alpha * dataPrecision;
      if (!(total > 0)) {
        throw new UsageError(`${fn}: '${name}'[${j}] has zero merged precision (no prior precision and no positive curvature in any task); fine-tune with priorPrecision/weightDecay > 0`);
      }
      mean[j] = theta0[j] + (alpha * pull) / total;
      hess[j] = (alpha * dataPrecision) / essM;
      priorPrecision[j] = h0 / essM;
    }
    params[name] = { shape: [...base.params[name].shape], mean, hess, priorPrecision, priorMean: Float32Array.from(theta0), ess: essM };
  }
  return { params };
}

/**
 * Puts a posterior into an IVON optimizer of the same model: its mean, and its curvature converted
 * to the optimizer's ess and prior so that σ is the posterior's (momentum restarts at 0). With
 * asPrior the posterior also becomes the prior of further training (through opt.setPrior).
 * Everything is validated before anything changes.
 */
export async function loadPosterior(opt: IVON, posterior: Posterior, options: LoadPosteriorOptions = {}): Promise<void> {
  const fn = 'loadPosterior';
  const ivon = requireIvon(fn, opt);
  if (!options || typeof options !== 'object') throw new UsageError(`${fn}: options must be an object`);
  const asPrior = options.asPrior ?? false;
  if (typeof asPrior !== 'boolean') throw new UsageError(`${fn}: asPrior must be a boolean`);
  const given = Object.keys(paramsOf(fn, 'posterior', posterior)).sort();
  const wanted = trainableNames(ivon).sort();
  if (given.join('\u0000') !== wanted.join('\u0000')) {
    throw new UsageError(`${fn}: the posterior holds [${given.join(', ')}] but the optimizer's trainable parameters are [${wanted.join(', ')}]; load a posterior of the same model`);
  }
  const newMean: Record<string, Float32Array> = {};
  const newHess: Record<string, Float32Array> = {};
  const priorMean: Record<string, Float32Array> = {};
  const priorPrecision: Record<string, Float32Array> = {};
  for (const name of wanted) {
    const p = posterior.params[name];
    checkParam(fn, `posterior.params['${name}']`, p);
    const slot = ivon.layout.params.get(name)!;
    if (p.shape.join(',') !== slot.shape.join(',')) throw new UsageError(`${fn}: '${name}' has shape [${p.shape.join(', ')}] in the posterior but [${slot.shape.join(', ')}] in the optimizer`);
    const hyper = ivon.groupHyper(slot.group);
    const delta = (await priorOf(ivon, name)).priorPrecision;
    const hess = new Float32Array(slot.count);
    const precision = new Float32Array(slot.count);
    for (let j = 0; j < slot.count; j++) {
      // The same absolute precision in the optimizer's units: ess_opt·(h' + δ') = ess_p·(h + δ_p).
      const absolute = p.ess * (p.hess[j] + p.priorPrecision[j]);
      precision[j] = absolute / hyper.ess;
      hess[j] = asPrior ? hyper.hessInit : precision[j] - delta[j];
      if (!asPrior && !(hess[j] + delta[j] > 0)) throw new UsageError(`${fn}: '${name}'[${j}]: the posterior's precision underflows in this optimizer's units (ess ${hyper.ess}); use an optimizer with a comparable ess`);
    }
    newMean[name] = p.mean;
    newHess[name] = hess;
    priorMean[name] = p.mean;
    priorPrecision[name] = precision;
  }
  const snapshot = await ivon.snapshot();
  for (const name of wanted) {
    const t = snapshot.tensors[name];
    t.mean = Float32Array.from(newMean[name]);
    t.hess = newHess[name];
    t.momentum = new Float32Array(t.mean.length);
  }
  // The prior goes in after the restore: a snapshot with the old prior must not overwrite it.
  await ivon.restore(snapshot);
  if (asPrior) await ivon.setPrior({ mean: priorMean, precision: priorPrecision });
}
