// IVON's per-element kernels in plain TypeScript: the float32 reference (Math.fround after every
// operation, in docs/KERNELS.md's order) that the WASM kernels match bit for bit. Also the 'js'
// backend's implementation.
//
// Every kernel that uses δ takes the per-element prior after its other tensors: `priorPrecision`
// δ_j (and, for the updates, `priorMean` μ_j first), or null for the uniform prior
// N(0, 1/(ess·weightDecay)). With them, δ_j takes the scalar weightDecay's place in every formula
// and the decay pulls toward μ_j (docs/KERNELS.md §2.1).

import { fillNormal } from './normal.js';

const f = Math.fround;

/** Kernel `ivonSample`: σ = 1/sqrt(ess·(h+δ)); noise = σ·z(first+i); theta = mean + noise. */
export function ivonSample(
  mean: Float32Array,
  hess: Float32Array,
  noise: Float32Array,
  theta: Float32Array,
  priorPrecision: Float32Array | null,
  count: number,
  first: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
  ess: number,
  weightDecay: number,
): void {
  const essF = f(ess);
  const wdF = f(weightDecay);
  const tile = new Float32Array(Math.min(count, 4096));
  for (let tileStart = 0; tileStart < count; tileStart += tile.length) {
    const tileCount = Math.min(tile.length, count - tileStart);
    fillNormal(tile, tileCount, first + tileStart, sample, step, stream, seedLo, seedHi);
    for (let j = 0; j < tileCount; j++) {
      const i = tileStart + j;
      const delta = priorPrecision ? priorPrecision[i] : wdF;
      const sigma = f(1 / f(Math.sqrt(f(essF * f(hess[i] + delta)))));
      const n = f(sigma * tile[j]);
      noise[i] = n;
      theta[i] = f(mean[i] + n);
    }
  }
}

/** Kernel `ivonSampleGiven`: noise holds ε on entry (test hook); noise = σ·ε; theta = mean + noise. */
export function ivonSampleGiven(
  mean: Float32Array,
  hess: Float32Array,
  noise: Float32Array,
  theta: Float32Array,
  priorPrecision: Float32Array | null,
  count: number,
  ess: number,
  weightDecay: number,
): void {
  const essF = f(ess);
  const wdF = f(weightDecay);
  for (let i = 0; i < count; i++) {
    const delta = priorPrecision ? priorPrecision[i] : wdF;
    const sigma = f(1 / f(Math.sqrt(f(essF * f(hess[i] + delta)))));
    const n = f(sigma * noise[i]);
    noise[i] = n;
    theta[i] = f(mean[i] + n);
  }
}

/** Kernel `ivonAccumulate`: Welford running means of the gradient and of n⊙g (price) or g² (gradsq). */
export function ivonAccumulate(
  grad: Float32Array,
  noise: Float32Array,
  gradMean: Float32Array,
  curvMean: Float32Array,
  count: number,
  sampleCount: number,
  hessApprox: number,
): void {
  const k = f(sampleCount);
  for (let i = 0; i < count; i++) {
    const g = grad[i];
    gradMean[i] = f(gradMean[i] + f(f(g - gradMean[i]) / k));
    const x = hessApprox === 0 ? f(noise[i] * g) : f(g * g);
    curvMean[i] = f(curvMean[i] + f(f(x - curvMean[i]) / k));
  }
}

/**
 * One element of the IVON update (docs/KERNELS.md §2), writing mean, hess and momentum in place.
 * `weightDecay` is δ_j and `priorMean` μ_j: with μ_j = 0, m − μ_j = m exactly, so the uniform
 * prior gets the bits of the formula without a prior mean.
 */
function updateElement(
  i: number,
  mean: Float32Array,
  hess: Float32Array,
  momentum: Float32Array,
  gradMean: number,
  curvMean: number,
  priorMean: number,
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
): void {
  const h = hess[i];
  const hd = f(h + weightDecay);
  const hhat = hessApprox === 0 ? f(f(curvMean * hd) * ess) : f(ess * curvMean);
  const g = f(f(beta1 * momentum[i]) + f(oneMinusBeta1 * gradMean));
  const d = f(h - hhat);
  const hNew = f(f(f(beta2 * h) + f(oneMinusBeta2 * hhat)) + f(f(curvCoef * f(d * d)) / hd));
  const m = mean[i];
  let u = f(f(f(g * invDebias) + f(weightDecay * f(m - priorMean))) / f(hNew + weightDecay));
  u = Math.min(Math.max(u, -clipRadius), clipRadius);
  momentum[i] = g;
  hess[i] = hNew;
  mean[i] = f(m - f(alpha * u));
}

/** Kernel `ivonUpdate`: the IVON step from the accumulated means. */
export function ivonUpdate(
  mean: Float32Array,
  hess: Float32Array,
  momentum: Float32Array,
  gradMean: Float32Array,
  curvMean: Float32Array,
  priorMean: Float32Array | null,
  priorPrecision: Float32Array | null,
  count: number,
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
): void {
  const s = [ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius].map(f);
  for (let i = 0; i < count; i++) {
    // (μ_j, δ_j) from the prior buffers when given, else (0, the group's weightDecay).
    const mu = priorMean ? priorMean[i] : 0;
    const delta = priorPrecision ? priorPrecision[i] : s[1];
    updateElement(i, mean, hess, momentum, gradMean[i], curvMean[i], mu, hessApprox, s[0], delta, s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]);
  }
}

/** Kernel `ivonUpdateFused`: one sample, no accumulate pass (gradMean = grad, curvMean = noise·grad or grad²). */
export function ivonUpdateFused(
  mean: Float32Array,
  hess: Float32Array,
  momentum: Float32Array,
  grad: Float32Array,
  noise: Float32Array,
  priorMean: Float32Array | null,
  priorPrecision: Float32Array | null,
  count: number,
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
): void {
  const s = [ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius].map(f);
  for (let i = 0; i < count; i++) {
    const g = grad[i];
    const curv = hessApprox === 0 ? f(noise[i] * g) : f(g * g);
    // (μ_j, δ_j) from the prior buffers when given, else (0, the group's weightDecay).
    const mu = priorMean ? priorMean[i] : 0;
    const delta = priorPrecision ? priorPrecision[i] : s[1];
    updateElement(i, mean, hess, momentum, g, curv, mu, hessApprox, s[0], delta, s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]);
  }
}

/** Kernel `ivonDraw`: theta = mean + σ·z(first+i), the noise not stored (regenerated later). */
export function ivonDraw(
  mean: Float32Array,
  hess: Float32Array,
  theta: Float32Array,
  priorPrecision: Float32Array | null,
  count: number,
  first: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
  ess: number,
  weightDecay: number,
): void {
  const noise = new Float32Array(Math.min(count, 4096));
  for (let start = 0; start < count; start += noise.length) {
    const n = Math.min(noise.length, count - start);
    const at = (a: Float32Array) => a.subarray(start, start + n);
    ivonSample(at(mean), at(hess), noise, at(theta), priorPrecision && at(priorPrecision), n, first + start, sample, step, stream, seedLo, seedHi, ess, weightDecay);
  }
}

/**
 * Kernel `ivonUpdateRedraw`: ivonUpdateFused with noise = σ(old hess)·z(first+i) recomputed from
 * the counter instead of read from a buffer; bit-identical to ivonSample + ivonUpdateFused.
 */
export function ivonUpdateRedraw(
  mean: Float32Array,
  hess: Float32Array,
  momentum: Float32Array,
  grad: Float32Array,
  priorMean: Float32Array | null,
  priorPrecision: Float32Array | null,
  count: number,
  first: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
): void {
  const tile = Math.min(count, 4096);
  const noise = new Float32Array(tile);
  const scratchTheta = new Float32Array(tile);
  for (let start = 0; start < count; start += tile) {
    const n = Math.min(tile, count - start);
    const at = (a: Float32Array) => a.subarray(start, start + n);
    const atPrior = (a: Float32Array | null) => a && at(a);
    if (hessApprox === 0) ivonSample(at(mean), at(hess), noise, scratchTheta, atPrior(priorPrecision), n, first + start, sample, step, stream, seedLo, seedHi, ess, weightDecay);
    ivonUpdateFused(at(mean), at(hess), at(momentum), at(grad), noise, atPrior(priorMean), atPrior(priorPrecision), n, hessApprox, ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  }
}

/**
 * Kernel `ivonUpdateAndDraw`: ivonUpdateRedraw, then theta = the first sample of the next step
 * (ivonDraw with counter (0, step + 1, 0) from the new mean and hess). One pass on a GPU: the next
 * step's sampling costs no extra read of mean and hess.
 */
export function ivonUpdateAndDraw(
  mean: Float32Array,
  hess: Float32Array,
  momentum: Float32Array,
  grad: Float32Array,
  theta: Float32Array,
  priorMean: Float32Array | null,
  priorPrecision: Float32Array | null,
  count: number,
  first: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
): void {
  ivonUpdateRedraw(mean, hess, momentum, grad, priorMean, priorPrecision, count, first, sample, step, stream, seedLo, seedHi, hessApprox, ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  ivonDraw(mean, hess, theta, priorPrecision, count, first, 0, step + 1, 0, seedLo, seedHi, ess, weightDecay);
}

/**
 * Kernel `ivonUpdateFusedAndSample`: ivonUpdateFused, then the next step's first sample (ivonSample
 * with counter (0, step + 1, 0)) from the new mean and hess into noise and theta. The WASM kernel
 * does both per 32-element chunk: one pass over memory per IVON step with the noise stored.
 * `epsilon` non-null: the next sample's z was drawn ahead with that counter and is read from it.
 */
export function ivonUpdateFusedAndSample(
  mean: Float32Array,
  hess: Float32Array,
  momentum: Float32Array,
  grad: Float32Array,
  noise: Float32Array,
  theta: Float32Array,
  epsilon: Float32Array | null,
  priorMean: Float32Array | null,
  priorPrecision: Float32Array | null,
  count: number,
  first: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
): void {
  // `sample` and `stream` name the current sample (its noise is read from `noise`): unused here,
  // kept for the argument order shared with ivonUpdateAndDraw.
  ivonUpdateFused(mean, hess, momentum, grad, noise, priorMean, priorPrecision, count, hessApprox, ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  if (epsilon === null) {
    ivonSample(mean, hess, noise, theta, priorPrecision, count, first, 0, step + 1, 0, seedLo, seedHi, ess, weightDecay);
  } else {
    noise.set(epsilon.subarray(0, count));
    ivonSampleGiven(mean, hess, noise, theta, priorPrecision, count, ess, weightDecay);
  }
}
