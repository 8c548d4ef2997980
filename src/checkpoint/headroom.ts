// "Whatever loads, trains": the decoder's promise that a checkpoint it accepts cannot produce a
// non-finite θ or state within two ordinary steps. Finite values are not enough: the kernels
// compute in float32 (docs/KERNELS.md), where momentum 3e38 times the debias factor, or a
// curvature step (h − ĥ)²/(h + δ) with h + δ near 1e-38, overflows at once. So, per element,
// this file bounds every quantity the kernels will compute over the next two steps — interval
// arithmetic on magnitudes, in float64 — and refuses the file when any bound leaves float32's
// range with margin (LIMIT = 2^120, float32 tops out at 2^128), or when h + δ is so close to
// zero that float32 rounding of the update could push it to ≤ 0.
//
// An ordinary step: one sample (or any number: Welford means stay within the same bounds), every
// gradient element in [−G, G] with G = 1, and the optimizer's own noise, |ε| ≤ E = 6 (Box–Muller on
// 24-bit uniforms tops out at 5.77, docs/KERNELS.md §1). The bounds are a worst case; states of the
// paper's configurations (IVON.md §8) pass, and test/checkpoint-headroom.test.ts trains two steps
// from the largest accepted value of each way a state can approach overflow.

const LIMIT = 2 ** 120;
const G = 1;
const E = 6;
/** Smallest ess·(h + δ) accepted: σ ≤ 2^50. */
const MIN_PRECISION = 2 ** -100;
/**
 * Float32 rounding of h' = β₂h + (1−β₂)ĥ + c(h−ĥ)²/(h+δ) errs by about 2^-22·|h|, while
 * h' + δ ≥ (h + δ)/2 exactly: h + δ must stay ≥ 2^-16·max(|h|, δ) for the rounding to be harmless.
 */
const MIN_RELATIVE_SLACK = 2 ** -16;

const f = Math.fround;

/** The float64 scalars one IVON group's update uses (as src/optim/ivon.ts computes them). */
export interface IvonScalars {
  ess: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  clipRadius: number;
  hessApprox: 'price' | 'gradsq';
  /** 1/(1 − β₁^t) of the next two steps (1 when debias is off). */
  invDebias: [number, number];
  /** lr·(h₀ + δ) with rescaleLr, else lr. */
  alpha: number;
}

/**
 * Bounds of one IVON element's state, or of a whole group's (the worst of each: every bound below
 * grows with |m|, |h| and |g| and shrinks with h + δ, so a group whose worst corner passes needs no
 * per-element pass).
 */
export interface IvonStateBounds {
  /** |m| */
  mean: number;
  /** |h| */
  hessAbs: number;
  /** h + δ in float32, as the kernels compute it */
  hessPlusDecay: number;
  /** |g| */
  momentum: number;
}

export function ivonBoundsOf(mean: number, hess: number, momentum: number, weightDecay: number): IvonStateBounds {
  return { mean: Math.abs(mean), hessAbs: Math.abs(hess), hessPlusDecay: f(hess + f(weightDecay)), momentum: Math.abs(momentum) };
}

/** Why a state within these bounds could leave float32 within two steps, or undefined. */
export function ivonHeadroom(b: IvonStateBounds, s: IvonScalars): string | undefined {
  const lambda = f(s.ess);
  const delta = f(s.weightDecay);
  const curvCoef = 0.5 * (1 - s.beta2) ** 2;
  let m = b.mean;
  let mu = b.momentum;
  let hAbs = b.hessAbs;
  let hd = b.hessPlusDecay; // lower bound of h + δ
  for (let step = 0; step < 2; step++) {
    if (!(hd > 0) || (step === 0 && hd < MIN_RELATIVE_SLACK * Math.max(hAbs, delta))) return 'hess + weightDecay is too close to 0 for float32';
    const precision = lambda * hd;
    if (!(precision >= MIN_PRECISION)) return 'ess·(hess + weightDecay) is too small (sigma would overflow)';
    const hdHigh = hAbs + delta;
    const noise = E / Math.sqrt(precision);
    // price: ĥ = (n·g)·(h+δ)·λ, its intermediates included; gradsq: ĥ = λ·g².
    const curv = s.hessApprox === 'price' ? noise * G * hdHigh : 0;
    const hHat = s.hessApprox === 'price' ? curv * lambda : lambda * G * G;
    mu = s.beta1 * mu + (1 - s.beta1) * G;
    const d = hAbs + hHat;
    const curvStep = (curvCoef * d * d) / hd;
    const hNew = s.beta2 * hAbs + (1 - s.beta2) * hHat + curvStep;
    const hdNew = hd / 4; // exactly ≥ hd/2; float32 rounding stays far inside the other half
    const debiased = mu * s.invDebias[step];
    const u = Math.min((debiased + delta * m) / hdNew, s.clipRadius);
    const worst = Math.max(m + noise, lambda * hdHigh, curv, hHat, d * d, curvStep, hNew, debiased, delta * m, u, s.alpha * u);
    if (!(worst <= LIMIT)) return 'a value of the next two steps would overflow float32';
    m += s.alpha * u;
    hAbs = Math.max(hNew, delta); // h' ≥ −δ
    hd = hdNew;
  }
  return undefined;
}

/** AdamW: p' = p·(1 − lr·wd) − (lr/b₁)·m'/(sqrt(v')/sqrt(b₂) + ε). */
export interface AdamwScalars {
  decayFactor: [number, number];
  stepSize: [number, number];
  beta1: number;
  beta2: number;
  eps: number;
  invBiasCorrection2Sqrt: [number, number];
}

/** Bounds of AdamW state: |p|, |m|, and v's range. */
export interface AdamwStateBounds {
  param: number;
  expAvg: number;
  expAvgSqLow: number;
  expAvgSqHigh: number;
}

export function adamwHeadroom(b: AdamwStateBounds, s: AdamwScalars): string | undefined {
  let p = b.param;
  let m = b.expAvg;
  let vHigh = b.expAvgSqHigh;
  let vLow = b.expAvgSqLow;
  for (let step = 0; step < 2; step++) {
    m = s.beta1 * m + (1 - s.beta1) * G;
    vHigh = s.beta2 * vHigh + (1 - s.beta2) * G * G;
    vLow = s.beta2 * vLow;
    const denom = Math.sqrt(vLow) * s.invBiasCorrection2Sqrt[step] + f(s.eps);
    const ratio = m / denom;
    const decayed = p * Math.abs(s.decayFactor[step]);
    const worst = Math.max(decayed, ratio, s.stepSize[step] * ratio, vHigh, Math.sqrt(vHigh) * s.invBiasCorrection2Sqrt[step]);
    if (!(worst <= LIMIT)) return 'a value of the next two steps would overflow float32';
    p = decayed + s.stepSize[step] * ratio;
  }
  return undefined;
}

/** SGD: g' = g + wd·p; buf = μ·buf + g'; p -= lr·buf. `param`, `momentumBuf`: magnitudes. */
export function sgdHeadroom(param: number, momentumBuf: number, lr: number, momentum: number, weightDecay: number): string | undefined {
  let p = param;
  let buf = momentumBuf;
  for (let step = 0; step < 2; step++) {
    const g = G + weightDecay * p;
    buf = momentum * buf + g;
    const worst = Math.max(g, buf, lr * buf);
    if (!(worst <= LIMIT)) return 'a value of the next two steps would overflow float32';
    p += lr * buf;
  }
  return undefined;
}
