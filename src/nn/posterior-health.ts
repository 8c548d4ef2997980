// Is IVON's posterior still telling us something? Two failure modes are silent in the loss until
// it is too late: on nearly separable data the curvature estimate ĥ is ≈ 0, so h only decays
// (h₀·β₂ᵗ), σ grows toward the prior's 1/sqrt(ess·δ), the update (g + δm)/(h + δ) grows with it,
// and training diverges (the digits at 200 epochs with ess·δ ≈ 1.4 and β₂ 0.999 did); σ reaches
// the prior's (the data no longer count); or σ grows past the scale of the weights. `fit` calls posteriorHealth at each epoch end and warns once,
// naming the setting to change. Mean h/h₀ also says whether the curvature was learned at all.
import { IVON } from '../optim/ivon.js';

export interface PosteriorHealth {
  /** Mean over trainable elements of h / h₀ (1 = the curvature never moved from its start). */
  meanHessRatio: number;
  /** Median σ = 1/sqrt(ess·(h + δ)) over trainable elements. */
  medianSigma: number;
  /** Median over elements of σ / σ_prior, σ_prior = 1/sqrt(ess·δ): 1 means the data add no precision. */
  medianPriorRatio: number;
  /** Median over elements of (h₀ + δ)/(h + δ): how many times larger a step per unit gradient is than at the start. */
  medianStepGain: number;
  /** Set when the posterior collapsed to the prior or blew up: what happened and what to change. */
  warning?: string;
}

/** σ / σ_prior at or above this for the median weight: the data no longer constrain most weights. */
export const COLLAPSE_RATIO = 0.9;
/** Median σ above this: sampled weights move by more than a typical weight's size. */
export const BLOWUP_SIGMA = 0.5;
/**
 * Median step gain above this: h has decayed so far that steps are this many times the first. On
 * the digits with β₂ 0.999 and ess·δ 1.4 the training loss jumped from 0.03 to 2 between gains 9
 * and 75; with β₂ 0.9999 the gain stayed below 2 over 160 epochs.
 */
export const MAX_STEP_GAIN = 20;
/**
 * Elements the medians are taken over, at most (evenly strided through each parameter): fit runs
 * this check every epoch, so it must cost next to nothing beside one (issue 16). A median of 8 192
 * evenly spread elements is within a few percent of the whole model's — the warnings' thresholds
 * are factors of 2 and more apart.
 */
export const MEDIAN_SAMPLE = 8_192;

/** The median of `values` (reordered in place): quickselect, O(n). */
export function medianInPlace(values: Float64Array): number {
  const { lower, upper } = middlePair(values);
  return (lower + upper) / 2;
}

/**
 * The two middle values of `values` in sorted order (reordered in place; the same one twice for an
 * odd count): the median of f(values) for any monotone f is (f(lower) + f(upper)) / 2.
 */
export function middlePair(values: Float64Array): { lower: number; upper: number } {
  const mid = values.length >> 1;
  const upper = select(values, mid);
  if (values.length % 2) return { lower: upper, upper };
  // The lower middle is the largest element left of `mid` after the partition.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (values[i] > lower) lower = values[i];
  return { lower, upper };
}

/** Reorders `a` so that a[k] is the k-th smallest, everything left of it ≤ and right of it ≥; returns a[k]. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** Whether every element of both arrays is finite (x·0 is NaN exactly when x is not), and the sum of `b`. */
function finiteAndSum(a: Float32Array, b: Float32Array): { finite: boolean; sum: number } {
  let poison = 0;
  let sum = 0;
  for (let i = 0; i < b.length; i++) {
    poison += a[i] * 0 + b[i] * 0;
    sum += b[i];
  }
  return { finite: poison === 0, sum };
}

/** σ (float32, as read() gives it), σ/σ_prior and the step gain of one element. */
function perElement(h: number, delta: number, hyper: { ess: number; hessInit: number }): { sigma: number; priorRatio: number; gain: number } {
  const sigma = Math.fround(1 / Math.sqrt(hyper.ess * (h + delta)));
  return { sigma, priorRatio: sigma * Math.sqrt(hyper.ess * delta), gain: (hyper.hessInit + delta) / (h + delta) };
}

/** The sampled elements: h, δ and the group of each. */
interface Samples {
  hess: Float64Array;
  deltas: Float64Array;
  groups: Int32Array;
}

/**
 * The medians of σ, σ/σ_prior and the step gain over the sampled elements. All three fall as h
 * grows, so where every element has the same ess, δ and h₀ (one group, no per-element prior) they
 * come from h's two middle values (middlePair); otherwise each is selected on its own.
 */
function medians(s: Samples, opt: IVON): Pick<PosteriorHealth, 'medianSigma' | 'medianPriorRatio' | 'medianStepGain'> {
  const n = s.hess.length;
  const hypers = opt.layout.groups.map((_, g) => opt.groupHyper(g));
  const hyper = (i: number) => hypers[s.groups[i]];
  const first = hyper(0);
  let shared = true;
  for (let i = 1; i < n && shared; i++) {
    const h = hyper(i);
    shared = s.deltas[i] === s.deltas[0] && h.ess === first.ess && h.hessInit === first.hessInit;
  }
  if (shared) {
    const { lower, upper } = middlePair(s.hess);
    const a = perElement(lower, s.deltas[0], first);
    const b = perElement(upper, s.deltas[0], first);
    return { medianSigma: (a.sigma + b.sigma) / 2, medianPriorRatio: (a.priorRatio + b.priorRatio) / 2, medianStepGain: (a.gain + b.gain) / 2 };
  }
  const sigmas = new Float64Array(n);
  const priorRatios = new Float64Array(n);
  const gains = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = perElement(s.hess[i], s.deltas[i], hyper(i));
    sigmas[i] = e.sigma;
    priorRatios[i] = e.priorRatio;
    gains[i] = e.gain;
  }
  return { medianSigma: medianInPlace(sigmas), medianPriorRatio: medianInPlace(priorRatios), medianStepGain: medianInPlace(gains) };
}

/** Mean h/h₀, median σ and a warning, from the optimizer's state (reads it back on any backend). */
export async function posteriorHealth(opt: IVON): Promise<PosteriorHealth> {
  if (!(opt instanceof IVON)) throw new Error(`posteriorHealth: needs an IVON optimizer (only IVON learns a posterior), got ${(opt as { kind?: string })?.kind ?? typeof opt}`);
  let hessRatioSum = 0;
  let elements = 0;
  let finite = true;
  // Medians from at most MEDIAN_SAMPLE evenly strided elements; the mean and the finiteness check see all.
  let total = 0;
  for (const name of opt.parameterNames) {
    const slot = opt.layout.params.get(name)!;
    if (!opt.layout.groups[slot.group].frozen) total += slot.count;
  }
  const stride = Math.max(1, Math.ceil(total / MEDIAN_SAMPLE));
  const capacity = opt.parameterNames.length + Math.ceil(total / stride);
  const samples: Samples = { hess: new Float64Array(capacity), deltas: new Float64Array(capacity), groups: new Int32Array(capacity) };
  let sampled = 0;
  for (const name of opt.parameterNames) {
    const group = opt.layout.params.get(name)!.group;
    const hyper = opt.groupHyper(group);
    if (opt.layout.groups[group].frozen) continue;
    // The raw tensors (read() would also compute σ for every element; only the sampled ones are needed).
    const { mean, hess, priorPrecision } = await opt.readTensors(name);
    const h = hess!;
    const scan = finiteAndSum(mean, h);
    // σ = 1/sqrt(ess·(h + δ)) is finite wherever h is (δ > 0 and h + δ > 0 are the optimizer's invariants).
    if (!scan.finite) finite = false;
    hessRatioSum += scan.sum / hyper.hessInit;
    elements += h.length;
    for (let i = 0; i < h.length; i += stride) {
      // δ_j: the per-element prior precision where IVON has one, else the group's weight decay.
      samples.hess[sampled] = h[i];
      samples.deltas[sampled] = priorPrecision ? priorPrecision[i] : hyper.weightDecay;
      samples.groups[sampled] = group;
      sampled++;
    }
  }
  if (sampled === 0) throw new Error('posteriorHealth: the optimizer has no trainable parameters');
  const used: Samples = { hess: samples.hess.subarray(0, sampled), deltas: samples.deltas.subarray(0, sampled), groups: samples.groups.subarray(0, sampled) };
  const health: PosteriorHealth = { meanHessRatio: hessRatioSum / elements, ...medians(used, opt) };
  if (!finite || !(health.medianSigma <= BLOWUP_SIGMA)) {
    health.warning =
      `IVON's posterior blew up (median σ ${health.medianSigma.toPrecision(3)}${finite ? '' : ', non-finite weights'}): ` +
      'lower lr, raise hessInit, or raise ess·weightDecay toward 10–100';
  } else if (health.medianStepGain > MAX_STEP_GAIN) {
    health.warning =
      `IVON's curvature decayed without being learned (mean h/h₀ ${health.meanHessRatio.toPrecision(3)}; a step per unit gradient is ${health.medianStepGain.toFixed(0)}× the first): ` +
      'the curvature estimate is ≈ 0 on this data, so h only shrinks and the steps grow until training diverges; ' +
      'raise beta2 toward 0.9999, raise weightDecay so that ess·weightDecay is 10–100, or train fewer epochs';
  } else if (health.medianPriorRatio >= COLLAPSE_RATIO) {
    health.warning =
      `IVON's posterior collapsed to the prior (median σ/σ_prior ${health.medianPriorRatio.toFixed(2)}, mean h/h₀ ${health.meanHessRatio.toPrecision(3)}): ` +
      'the curvature decayed below weightDecay, so the data no longer set σ and the steps grow; ' +
      'raise weightDecay so that ess·weightDecay is 10–100, or raise beta2 toward 0.9999 so h decays more slowly';
  }
  return health;
}
