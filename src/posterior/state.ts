// Reading the posterior out of an optimizer: the Posterior value of an IVON optimizer (mean,
// curvature, per-element prior, ess), and the per-element variance σ² the prediction variance,
// sensitivity and leave-one-out estimates need — IVON's own σ², or for AdamW the memory-
// perturbation authors' stand-in built from Adam's second moment (docs/POSTERIOR.md §2).
import { UsageError } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import { IVON } from '../optim/ivon.js';
import type { ParamPosterior, Posterior } from './types.js';

/** For an AdamW model (which learns no variance): σ² = 1 / (dataSize·sqrt(v̂) + priorPrecision). */
export interface AdamwVarianceOptions {
  /** N: the number of training examples. */
  dataSize: number;
  /** δ: the absolute prior precision (> 0 keeps σ² finite where v̂ = 0). */
  priorPrecision: number;
}

export interface VarianceSourceOptions {
  /** Needed (and allowed) only when the optimizer is AdamW. */
  adamw?: AdamwVarianceOptions;
}

/** What every posterior entry point accepts as `opt`. */
export type PosteriorOptimizer = IVON | AdamW;

/** The prior N(μ₀, 1/(ess·δ)) of one parameter, per element (δ = weightDecay where the optimizer has no per-element prior). */
export async function priorOf(opt: IVON, name: string): Promise<{ priorMean: Float32Array; priorPrecision: Float32Array }> {
  const { priorMean, priorPrecision } = await opt.read(name);
  return { priorMean, priorPrecision };
}

export function requireIvon(fn: string, opt: unknown): IVON {
  if (opt instanceof IVON) return opt;
  const kind = (opt as { kind?: unknown })?.kind;
  throw new UsageError(
    `${fn}: needs an IVON optimizer (its state is the posterior), got ${typeof kind === 'string' ? `a ${kind} optimizer` : String(opt)}; train with new IVON(runtime, { ... }) — AdamW and SGD learn no posterior`,
  );
}

/** The trainable parameters of an optimizer (frozen groups have no posterior). */
export function trainableNames(opt: PosteriorOptimizer): string[] {
  return [...opt.layout.params.values()].filter((s) => !opt.layout.groups[s.group].frozen).map((s) => s.name);
}

/** The posterior an IVON optimizer holds now (copies; frozen parameters left out). */
export async function posteriorOf(opt: IVON): Promise<Posterior> {
  const ivon = requireIvon('posteriorOf', opt);
  const params: Record<string, ParamPosterior> = {};
  for (const name of trainableNames(ivon)) {
    const slot = ivon.layout.params.get(name)!;
    const t = await ivon.readTensors(name);
    const prior = await priorOf(ivon, name);
    params[name] = { shape: [...slot.shape], mean: t.mean, hess: t.hess!, ...prior, ess: ivon.groupHyper(slot.group).ess };
  }
  return { params };
}

/** σ²_j = 1 / (ess·(h_j + δ_j)) of one parameter posterior, in float64. */
export function varianceOfParam(p: ParamPosterior): Float64Array {
  const v = new Float64Array(p.mean.length);
  for (let j = 0; j < v.length; j++) v[j] = 1 / (p.ess * (p.hess[j] + p.priorPrecision[j]));
  return v;
}

function checkAdamwOptions(fn: string, o: unknown): AdamwVarianceOptions {
  const a = o as Partial<AdamwVarianceOptions> | undefined;
  if (!a || typeof a !== 'object') {
    throw new UsageError(`${fn}: an AdamW model has no learned variance; pass { adamw: { dataSize: N, priorPrecision: δ } } to use σ² = 1/(N·sqrt(v̂) + δ) from Adam's second moment, or train with IVON`);
  }
  if (!(typeof a.dataSize === 'number' && Number.isFinite(a.dataSize) && a.dataSize > 0)) throw new UsageError(`${fn}: adamw.dataSize must be the number of training examples (> 0), got ${String(a.dataSize)}`);
  if (!(typeof a.priorPrecision === 'number' && Number.isFinite(a.priorPrecision) && a.priorPrecision > 0)) {
    throw new UsageError(`${fn}: adamw.priorPrecision must be a finite number > 0 (it keeps σ² finite where Adam's second moment is 0), got ${String(a.priorPrecision)}`);
  }
  return { dataSize: a.dataSize, priorPrecision: a.priorPrecision };
}

/**
 * σ² per element of every parameter, by name (frozen parameters: 0 — they do not vary).
 * IVON: its posterior. AdamW: 1 / (N·sqrt(v̂) + δ) with v̂ the bias-corrected second moment.
 */
export async function variancesOf(fn: string, opt: PosteriorOptimizer, options: VarianceSourceOptions = {}): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  if (opt instanceof IVON) {
    if (options.adamw !== undefined) throw new UsageError(`${fn}: the adamw option is for AdamW models; an IVON optimizer has its own variance — drop the option`);
    const post = await posteriorOf(opt);
    for (const name of opt.parameterNames) {
      out[name] = name in post.params ? Float32Array.from(varianceOfParam(post.params[name])) : new Float32Array(opt.layout.params.get(name)!.count);
    }
    return out;
  }
  if (opt instanceof AdamW) {
    const { dataSize, priorPrecision } = checkAdamwOptions(fn, options.adamw);
    for (const name of opt.parameterNames) {
      const slot = opt.layout.params.get(name)!;
      const hyper = opt.groupHyper(slot.group);
      const v = new Float32Array(slot.count);
      if (!hyper.frozen) {
        if (opt.stepCount === 0) throw new UsageError(`${fn}: the AdamW optimizer has taken no step, so its second moment is empty; train first`);
        const correction = 1 - Math.pow(hyper.beta2, opt.stepCount);
        const sq = (await opt.readTensors(name)).expAvgSq!;
        for (let j = 0; j < v.length; j++) v[j] = 1 / (dataSize * Math.sqrt(sq[j] / correction) + priorPrecision);
      }
      out[name] = v;
    }
    return out;
  }
  const kind = (opt as { kind?: unknown })?.kind;
  throw new UsageError(`${fn}: needs an IVON optimizer (or AdamW with the adamw option), got ${typeof kind === 'string' ? `a ${kind} optimizer` : String(opt)}`);
}
