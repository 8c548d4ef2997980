// The IVON kernels of docs/KERNELS.md §2: sample θ = m + σ⊙ε, accumulate the per-step means, and
// update (m, g, h). Four elements per SIMD iteration; a count that is not a multiple of 4 ends in
// scalar code with the same float32 operations in the same order, so every element gets the bits
// of the Math.fround reference (src/kernels/ivon.ts) whatever the count or the split.
//
// Per-element prior: every kernel that uses δ takes `priorPrecision` (δ_j) and, for the updates,
// `priorMean` (μ_j, first) pointers after its other tensors. 0 means the uniform prior (the scalar
// weightDecay, μ = 0): the kernel runs the loops it always ran. Otherwise it branches once into a
// *Prior loop (16-element groups, the same normals) that loads δ_j / μ_j per element.

import { cachedNormals, normalAt, normalsTo, normalsTo2, normalsToCache, resetNormalCache } from './normal';

// ---- sampling -------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function sampleQuad(mean: usize, hess: usize, noise: usize, theta: usize, z: v128, ess: v128, weightDecay: v128): void {
  const sigma = f32x4.div(f32x4.splat(1.0), f32x4.sqrt(f32x4.mul(ess, f32x4.add(v128.load(hess), weightDecay))));
  const n = f32x4.mul(sigma, z);
  v128.store(noise, n);
  v128.store(theta, f32x4.add(v128.load(mean), n));
}

// @ts-ignore: decorator
@inline function sampleOne(mean: usize, hess: usize, noise: usize, theta: usize, z: f32, ess: f32, weightDecay: f32): void {
  const sigma: f32 = <f32>1.0 / sqrt<f32>(ess * (load<f32>(hess) + weightDecay));
  const n = sigma * z;
  store<f32>(noise, n);
  store<f32>(theta, load<f32>(mean) + n);
}

/** σ = 1/sqrt(ess·(hess + weightDecay)); noise = σ·z(first + i); theta = mean + noise. */
export function ivonSample(
  mean: usize, hess: usize, noise: usize, theta: usize, priorPrecision: usize, count: i32, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32, ess: f32, weightDecay: f32,
): void {
  resetNormalCache();
  if (priorPrecision != 0) {
    ivonSamplePrior(mean, hess, noise, theta, priorPrecision, count, first, sample, step, stream, seedLo, seedHi, ess);
    return;
  }
  const essV = f32x4.splat(ess);
  const wdV = f32x4.splat(weightDecay);
  let i: i32 = 0;
  while (i < count && ((first + <u32>i) & 15) != 0) {
    const o = <usize>i << 2;
    sampleOne(mean + o, hess + o, noise + o, theta + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, weightDecay);
    i++;
  }
  // The normals land in `noise` first and are scaled in place while still in L1.
  for (; i + 32 <= count; i += 32) {
    const o = <usize>i << 2;
    normalsTo2(noise + o, (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let k: usize = 0; k < 128; k += 16) {
      sampleQuad(mean + o + k, hess + o + k, noise + o + k, theta + o + k, v128.load(noise + o + k), essV, wdV);
    }
  }
  for (; i + 16 <= count; i += 16) {
    const o = <usize>i << 2;
    normalsTo(noise + o, (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let k: usize = 0; k < 64; k += 16) {
      sampleQuad(mean + o + k, hess + o + k, noise + o + k, theta + o + k, v128.load(noise + o + k), essV, wdV);
    }
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    sampleOne(mean + o, hess + o, noise + o, theta + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, weightDecay);
  }
}

/** ivonSample with δ_j = priorPrecision[i]: the same normals (16 per Philox group), the same σ formula. */
function ivonSamplePrior(
  mean: usize, hess: usize, noise: usize, theta: usize, prior: usize, count: i32, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32, ess: f32,
): void {
  const essV = f32x4.splat(ess);
  let i: i32 = 0;
  while (i < count && ((first + <u32>i) & 15) != 0) {
    const o = <usize>i << 2;
    sampleOne(mean + o, hess + o, noise + o, theta + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, load<f32>(prior + o));
    i++;
  }
  for (; i + 16 <= count; i += 16) {
    const o = <usize>i << 2;
    normalsTo(noise + o, (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let k: usize = 0; k < 64; k += 16) {
      sampleQuad(mean + o + k, hess + o + k, noise + o + k, theta + o + k, v128.load(noise + o + k), essV, v128.load(prior + o + k));
    }
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    sampleOne(mean + o, hess + o, noise + o, theta + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, load<f32>(prior + o));
  }
}

/** ε = noise (injected); noise = σ·ε; theta = mean + noise. */
export function ivonSampleGiven(mean: usize, hess: usize, noise: usize, theta: usize, priorPrecision: usize, count: i32, ess: f32, weightDecay: f32): void {
  const essV = f32x4.splat(ess);
  const wdV = f32x4.splat(weightDecay);
  let o: usize = 0;
  const end = <usize>count << 2;
  if (priorPrecision != 0) {
    for (; o + 16 <= end; o += 16) {
      sampleQuad(mean + o, hess + o, noise + o, theta + o, v128.load(noise + o), essV, v128.load(priorPrecision + o));
    }
    for (; o < end; o += 4) {
      sampleOne(mean + o, hess + o, noise + o, theta + o, load<f32>(noise + o), ess, load<f32>(priorPrecision + o));
    }
    return;
  }
  for (; o + 16 <= end; o += 16) {
    sampleQuad(mean + o, hess + o, noise + o, theta + o, v128.load(noise + o), essV, wdV);
  }
  for (; o < end; o += 4) {
    sampleOne(mean + o, hess + o, noise + o, theta + o, load<f32>(noise + o), ess, weightDecay);
  }
}

// ---- accumulation ---------------------------------------------------------------------------

/** Welford means over the samples of a step: hessApprox 0 = price (noise·grad), 1 = gradsq. */
export function ivonAccumulate(grad: usize, noise: usize, gradMean: usize, curvMean: usize, count: i32, sampleCount: f32, hessApprox: i32): void {
  const kV = f32x4.splat(sampleCount);
  const price = hessApprox == 0;
  let o: usize = 0;
  const end = <usize>count << 2;
  for (; o + 16 <= end; o += 16) {
    const g = v128.load(grad + o);
    const gm = v128.load(gradMean + o);
    v128.store(gradMean + o, f32x4.add(gm, f32x4.div(f32x4.sub(g, gm), kV)));
    const x = price ? f32x4.mul(v128.load(noise + o), g) : f32x4.mul(g, g);
    const cm = v128.load(curvMean + o);
    v128.store(curvMean + o, f32x4.add(cm, f32x4.div(f32x4.sub(x, cm), kV)));
  }
  for (; o < end; o += 4) {
    const g = load<f32>(grad + o);
    const gm = load<f32>(gradMean + o);
    store<f32>(gradMean + o, gm + (g - gm) / sampleCount);
    const x: f32 = price ? load<f32>(noise + o) * g : g * g;
    const cm = load<f32>(curvMean + o);
    store<f32>(curvMean + o, cm + (x - cm) / sampleCount);
  }
}

// ---- update ---------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function updateQuad(
  mean: usize, hess: usize, momentum: usize, gradMean: v128, curvMean: v128, price: bool,
  ess: v128, wd: v128, beta1: v128, omb1: v128, beta2: v128, omb2: v128, curvCoef: v128, invDebias: v128, alpha: v128, clip: v128, negClip: v128,
): void {
  const h0 = v128.load(hess);
  const m0 = v128.load(mean);
  const hd = f32x4.add(h0, wd);
  const hhat = price ? f32x4.mul(f32x4.mul(curvMean, hd), ess) : f32x4.mul(ess, curvMean);
  const g = f32x4.add(f32x4.mul(beta1, v128.load(momentum)), f32x4.mul(omb1, gradMean));
  const d = f32x4.sub(h0, hhat);
  const h = f32x4.add(
    f32x4.add(f32x4.mul(beta2, h0), f32x4.mul(omb2, hhat)),
    f32x4.div(f32x4.mul(curvCoef, f32x4.mul(d, d)), hd),
  );
  let u = f32x4.div(f32x4.add(f32x4.mul(g, invDebias), f32x4.mul(wd, m0)), f32x4.add(h, wd));
  // pmin/pmax are single instructions; they equal min/max here (u is never NaN and r > 0).
  u = f32x4.pmin(f32x4.pmax(u, negClip), clip);
  v128.store(momentum, g);
  v128.store(hess, h);
  v128.store(mean, f32x4.sub(m0, f32x4.mul(alpha, u)));
}

// @ts-ignore: decorator
@inline function updateOne(
  mean: usize, hess: usize, momentum: usize, gradMean: f32, curvMean: f32, price: bool,
  ess: f32, wd: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
): void {
  const h0 = load<f32>(hess);
  const m0 = load<f32>(mean);
  const hd = h0 + wd;
  const hhat: f32 = price ? (curvMean * hd) * ess : ess * curvMean;
  const g = beta1 * load<f32>(momentum) + omb1 * gradMean;
  const d = h0 - hhat;
  const h = (beta2 * h0 + omb2 * hhat) + (curvCoef * (d * d)) / hd;
  let u = (g * invDebias + wd * m0) / (h + wd);
  u = min<f32>(max<f32>(u, -clip), clip);
  store<f32>(momentum, g);
  store<f32>(hess, h);
  store<f32>(mean, m0 - alpha * u);
}

// The update with δ_j and μ_j loaded per element: u = (g/b + δ_j·(m − μ_j)) / (h' + δ_j).
// @ts-ignore: decorator
@inline function updateQuadPrior(
  mean: usize, hess: usize, momentum: usize, gradMean: v128, curvMean: v128, priorMean: usize, priorPrecision: usize, price: bool,
  ess: v128, beta1: v128, omb1: v128, beta2: v128, omb2: v128, curvCoef: v128, invDebias: v128, alpha: v128, clip: v128, negClip: v128,
): void {
  const wd = v128.load(priorPrecision);
  const h0 = v128.load(hess);
  const m0 = v128.load(mean);
  const hd = f32x4.add(h0, wd);
  const hhat = price ? f32x4.mul(f32x4.mul(curvMean, hd), ess) : f32x4.mul(ess, curvMean);
  const g = f32x4.add(f32x4.mul(beta1, v128.load(momentum)), f32x4.mul(omb1, gradMean));
  const d = f32x4.sub(h0, hhat);
  const h = f32x4.add(
    f32x4.add(f32x4.mul(beta2, h0), f32x4.mul(omb2, hhat)),
    f32x4.div(f32x4.mul(curvCoef, f32x4.mul(d, d)), hd),
  );
  let u = f32x4.div(f32x4.add(f32x4.mul(g, invDebias), f32x4.mul(wd, f32x4.sub(m0, v128.load(priorMean)))), f32x4.add(h, wd));
  u = f32x4.pmin(f32x4.pmax(u, negClip), clip);
  v128.store(momentum, g);
  v128.store(hess, h);
  v128.store(mean, f32x4.sub(m0, f32x4.mul(alpha, u)));
}

// @ts-ignore: decorator
@inline function updateOnePrior(
  mean: usize, hess: usize, momentum: usize, gradMean: f32, curvMean: f32, priorMean: usize, priorPrecision: usize, price: bool,
  ess: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
): void {
  const wd = load<f32>(priorPrecision);
  const h0 = load<f32>(hess);
  const m0 = load<f32>(mean);
  const hd = h0 + wd;
  const hhat: f32 = price ? (curvMean * hd) * ess : ess * curvMean;
  const g = beta1 * load<f32>(momentum) + omb1 * gradMean;
  const d = h0 - hhat;
  const h = (beta2 * h0 + omb2 * hhat) + (curvCoef * (d * d)) / hd;
  let u = (g * invDebias + wd * (m0 - load<f32>(priorMean))) / (h + wd);
  u = min<f32>(max<f32>(u, -clip), clip);
  store<f32>(momentum, g);
  store<f32>(hess, h);
  store<f32>(mean, m0 - alpha * u);
}

/** IVON step from the accumulated means (docs/KERNELS.md, old h on every right-hand side). */
export function ivonUpdate(
  mean: usize, hess: usize, momentum: usize, gradMean: usize, curvMean: usize, priorMean: usize, priorPrecision: usize, count: i32,
  hessApprox: i32, ess: f32, weightDecay: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  curvCoef: f32, invDebias: f32, alpha: f32, clipRadius: f32,
): void {
  const price = hessApprox == 0;
  const essV = f32x4.splat(ess), wdV = f32x4.splat(weightDecay), b1V = f32x4.splat(beta1), omb1V = f32x4.splat(oneMinusBeta1);
  const b2V = f32x4.splat(beta2), omb2V = f32x4.splat(oneMinusBeta2), cV = f32x4.splat(curvCoef), dbV = f32x4.splat(invDebias);
  const aV = f32x4.splat(alpha), clipV = f32x4.splat(clipRadius), negClipV = f32x4.splat(-clipRadius);
  let o: usize = 0;
  const end = <usize>count << 2;
  if (priorPrecision != 0) {
    for (; o + 16 <= end; o += 16) {
      updateQuadPrior(mean + o, hess + o, momentum + o, v128.load(gradMean + o), v128.load(curvMean + o), priorMean + o, priorPrecision + o, price,
        essV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    }
    for (; o < end; o += 4) {
      updateOnePrior(mean + o, hess + o, momentum + o, load<f32>(gradMean + o), load<f32>(curvMean + o), priorMean + o, priorPrecision + o, price,
        ess, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
    }
    return;
  }
  for (; o + 16 <= end; o += 16) {
    updateQuad(mean + o, hess + o, momentum + o, v128.load(gradMean + o), v128.load(curvMean + o), price,
      essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
  }
  for (; o < end; o += 4) {
    updateOne(mean + o, hess + o, momentum + o, load<f32>(gradMean + o), load<f32>(curvMean + o), price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  }
}

/** ivonUpdate for one sample: gradMean = grad, curvMean = noise·grad (price) or grad·grad. */
export function ivonUpdateFused(
  mean: usize, hess: usize, momentum: usize, grad: usize, noise: usize, priorMean: usize, priorPrecision: usize, count: i32,
  hessApprox: i32, ess: f32, weightDecay: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  curvCoef: f32, invDebias: f32, alpha: f32, clipRadius: f32,
): void {
  const price = hessApprox == 0;
  const essV = f32x4.splat(ess), wdV = f32x4.splat(weightDecay), b1V = f32x4.splat(beta1), omb1V = f32x4.splat(oneMinusBeta1);
  const b2V = f32x4.splat(beta2), omb2V = f32x4.splat(oneMinusBeta2), cV = f32x4.splat(curvCoef), dbV = f32x4.splat(invDebias);
  const aV = f32x4.splat(alpha), clipV = f32x4.splat(clipRadius), negClipV = f32x4.splat(-clipRadius);
  let o: usize = 0;
  const end = <usize>count << 2;
  if (priorPrecision != 0) {
    for (; o + 16 <= end; o += 16) {
      const g = v128.load(grad + o);
      const x = price ? f32x4.mul(v128.load(noise + o), g) : f32x4.mul(g, g);
      updateQuadPrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price, essV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    }
    for (; o < end; o += 4) {
      const g = load<f32>(grad + o);
      const x: f32 = price ? load<f32>(noise + o) * g : g * g;
      updateOnePrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price,
        ess, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
    }
    return;
  }
  for (; o + 16 <= end; o += 16) {
    const g = v128.load(grad + o);
    const x = price ? f32x4.mul(v128.load(noise + o), g) : f32x4.mul(g, g);
    updateQuad(mean + o, hess + o, momentum + o, g, x, price, essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
  }
  for (; o < end; o += 4) {
    const g = load<f32>(grad + o);
    const x: f32 = price ? load<f32>(noise + o) * g : g * g;
    updateOne(mean + o, hess + o, momentum + o, g, x, price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  }
}

// ---- regenerated noise (no noise buffer: the update redraws ε from the same counter) ----------

// @ts-ignore: decorator
@inline function drawQuad(mean: usize, hess: usize, theta: usize, z: v128, ess: v128, weightDecay: v128): void {
  const sigma = f32x4.div(f32x4.splat(1.0), f32x4.sqrt(f32x4.mul(ess, f32x4.add(v128.load(hess), weightDecay))));
  v128.store(theta, f32x4.add(v128.load(mean), f32x4.mul(sigma, z)));
}

// @ts-ignore: decorator
@inline function noiseOne(hess: usize, z: f32, ess: f32, weightDecay: f32): f32 {
  return (<f32>1.0 / sqrt<f32>(ess * (load<f32>(hess) + weightDecay))) * z;
}

/** theta = mean + σ·z(first + i), σ = 1/sqrt(ess·(hess + weightDecay)); the noise is not stored. */
export function ivonDraw(
  mean: usize, hess: usize, theta: usize, priorPrecision: usize, count: i32, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32, ess: f32, weightDecay: f32,
): void {
  resetNormalCache();
  if (priorPrecision != 0) {
    ivonDrawPrior(mean, hess, theta, priorPrecision, count, first, sample, step, stream, seedLo, seedHi, ess);
    return;
  }
  const essV = f32x4.splat(ess);
  const wdV = f32x4.splat(weightDecay);
  let i: i32 = 0;
  while (i < count && ((first + <u32>i) & 15) != 0) {
    const o = <usize>i << 2;
    store<f32>(theta + o, load<f32>(mean + o) + noiseOne(hess + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, weightDecay));
    i++;
  }
  // The normals land in `theta` first and become θ in place while still in L1.
  for (; i + 32 <= count; i += 32) {
    const o = <usize>i << 2;
    normalsTo2(theta + o, (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let k: usize = 0; k < 128; k += 16) drawQuad(mean + o + k, hess + o + k, theta + o + k, v128.load(theta + o + k), essV, wdV);
  }
  for (; i + 16 <= count; i += 16) {
    const o = <usize>i << 2;
    normalsTo(theta + o, (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let k: usize = 0; k < 64; k += 16) drawQuad(mean + o + k, hess + o + k, theta + o + k, v128.load(theta + o + k), essV, wdV);
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(theta + o, load<f32>(mean + o) + noiseOne(hess + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, weightDecay));
  }
}

/** ivonDraw with δ_j = priorPrecision[i]. */
function ivonDrawPrior(
  mean: usize, hess: usize, theta: usize, prior: usize, count: i32, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32, ess: f32,
): void {
  const essV = f32x4.splat(ess);
  let i: i32 = 0;
  while (i < count && ((first + <u32>i) & 15) != 0) {
    const o = <usize>i << 2;
    store<f32>(theta + o, load<f32>(mean + o) + noiseOne(hess + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, load<f32>(prior + o)));
    i++;
  }
  for (; i + 16 <= count; i += 16) {
    const o = <usize>i << 2;
    normalsTo(theta + o, (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let k: usize = 0; k < 64; k += 16) drawQuad(mean + o + k, hess + o + k, theta + o + k, v128.load(theta + o + k), essV, v128.load(prior + o + k));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(theta + o, load<f32>(mean + o) + noiseOne(hess + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, load<f32>(prior + o)));
  }
}

/**
 * ivonUpdateFused with the noise redrawn instead of read: noise = σ(old hess)·z(first + i), the
 * bits ivonSample/ivonDraw produced for the same counter, so both paths give identical results.
 */
export function ivonUpdateRedraw(
  mean: usize, hess: usize, momentum: usize, grad: usize, priorMean: usize, priorPrecision: usize, count: i32, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32,
  hessApprox: i32, ess: f32, weightDecay: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  curvCoef: f32, invDebias: f32, alpha: f32, clipRadius: f32,
): void {
  resetNormalCache();
  const price = hessApprox == 0;
  const essV = f32x4.splat(ess), wdV = f32x4.splat(weightDecay), b1V = f32x4.splat(beta1), omb1V = f32x4.splat(oneMinusBeta1);
  const b2V = f32x4.splat(beta2), omb2V = f32x4.splat(oneMinusBeta2), cV = f32x4.splat(curvCoef), dbV = f32x4.splat(invDebias);
  const aV = f32x4.splat(alpha), clipV = f32x4.splat(clipRadius), negClipV = f32x4.splat(-clipRadius);
  let i: i32 = 0;
  if (priorPrecision != 0) {
    while (i < count && ((first + <u32>i) & 15) != 0) {
      redrawOnePrior(i, mean, hess, momentum, grad, priorMean, priorPrecision, first, sample, step, stream, seedLo, seedHi, price,
        ess, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
      i++;
    }
    for (; i + 16 <= count; i += 16) {
      if (price) normalsToCache((first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
      for (let j: i32 = 0; j < 4; j++) {
        const o = <usize>(i + 4 * j) << 2;
        const g = v128.load(grad + o);
        let x: v128;
        if (price) {
          const sigma = f32x4.div(f32x4.splat(1.0), f32x4.sqrt(f32x4.mul(essV, f32x4.add(v128.load(hess + o), v128.load(priorPrecision + o)))));
          x = f32x4.mul(f32x4.mul(sigma, cachedNormals(j)), g);
        } else {
          x = f32x4.mul(g, g);
        }
        updateQuadPrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price, essV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
      }
    }
    for (; i < count; i++) {
      redrawOnePrior(i, mean, hess, momentum, grad, priorMean, priorPrecision, first, sample, step, stream, seedLo, seedHi, price,
        ess, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
    }
    return;
  }
  while (i < count && ((first + <u32>i) & 15) != 0) {
    redrawOne(i, mean, hess, momentum, grad, first, sample, step, stream, seedLo, seedHi, price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
    i++;
  }
  for (; i + 16 <= count; i += 16) {
    if (price) normalsToCache((first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
    for (let j: i32 = 0; j < 4; j++) {
      const o = <usize>(i + 4 * j) << 2;
      const g = v128.load(grad + o);
      let x: v128;
      if (price) {
        const sigma = f32x4.div(f32x4.splat(1.0), f32x4.sqrt(f32x4.mul(essV, f32x4.add(v128.load(hess + o), wdV))));
        x = f32x4.mul(f32x4.mul(sigma, cachedNormals(j)), g);
      } else {
        x = f32x4.mul(g, g);
      }
      updateQuad(mean + o, hess + o, momentum + o, g, x, price, essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    }
  }
  for (; i < count; i++) {
    redrawOne(i, mean, hess, momentum, grad, first, sample, step, stream, seedLo, seedHi, price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  }
}

// @ts-ignore: decorator
@inline function redrawOne(
  i: i32, mean: usize, hess: usize, momentum: usize, grad: usize, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32, price: bool,
  ess: f32, wd: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
): void {
  const o = <usize>i << 2;
  const g = load<f32>(grad + o);
  const x: f32 = price ? noiseOne(hess + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, wd) * g : g * g;
  updateOne(mean + o, hess + o, momentum + o, g, x, price, ess, wd, beta1, omb1, beta2, omb2, curvCoef, invDebias, alpha, clip);
}

// @ts-ignore: decorator
@inline function redrawOnePrior(
  i: i32, mean: usize, hess: usize, momentum: usize, grad: usize, priorMean: usize, priorPrecision: usize, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32, price: bool,
  ess: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
): void {
  const o = <usize>i << 2;
  const g = load<f32>(grad + o);
  const x: f32 = price ? noiseOne(hess + o, normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi), ess, load<f32>(priorPrecision + o)) * g : g * g;
  updateOnePrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price, ess, beta1, omb1, beta2, omb2, curvCoef, invDebias, alpha, clip);
}

/**
 * ivonUpdateRedraw, then theta = the next step's first sample (ivonDraw with counter
 * (0, step + 1, 0) from the new mean and hess). On the CPU the two passes run one after the other
 * (the backends there store the noise instead); the WGSL kernel fuses them.
 */
export function ivonUpdateAndDraw(
  mean: usize, hess: usize, momentum: usize, grad: usize, theta: usize, priorMean: usize, priorPrecision: usize, count: i32, first: u32,
  sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32,
  hessApprox: i32, ess: f32, weightDecay: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  curvCoef: f32, invDebias: f32, alpha: f32, clipRadius: f32,
): void {
  ivonUpdateRedraw(mean, hess, momentum, grad, priorMean, priorPrecision, count, first, sample, step, stream, seedLo, seedHi,
    hessApprox, ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  ivonDraw(mean, hess, theta, priorPrecision, count, first, 0, step + 1, 0, seedLo, seedHi, ess, weightDecay);
}

// @ts-ignore: decorator
@inline function updateFusedQuad(
  mean: usize, hess: usize, momentum: usize, grad: usize, noise: usize, price: bool,
  ess: v128, wd: v128, b1: v128, omb1: v128, b2: v128, omb2: v128, c: v128, db: v128, a: v128, clip: v128, negClip: v128,
): void {
  const g = v128.load(grad);
  const x = price ? f32x4.mul(v128.load(noise), g) : f32x4.mul(g, g);
  updateQuad(mean, hess, momentum, g, x, price, ess, wd, b1, omb1, b2, omb2, c, db, a, clip, negClip);
}

/**
 * ivonUpdateFused, then the next step's first sample (ivonSample with counter (0, step + 1, 0))
 * from the new mean and hess, 32 elements at a time while they are in L1: one pass over memory for
 * a whole IVON step with the noise stored. `sample` and `stream` name the current sample (its noise
 * is read from `noise`) and are kept for the argument order shared with ivonUpdateAndDraw.
 * `epsilon` != 0: the next sample's z was drawn ahead (fillNormal with that counter) and is read
 * from there, so the step is a memory-bound pass with no normals to compute (same bits).
 */
export function ivonUpdateFusedAndSample(
  mean: usize, hess: usize, momentum: usize, grad: usize, noise: usize, theta: usize, epsilon: usize, priorMean: usize, priorPrecision: usize,
  count: i32, first: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32,
  hessApprox: i32, ess: f32, weightDecay: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  curvCoef: f32, invDebias: f32, alpha: f32, clipRadius: f32,
): void {
  const price = hessApprox == 0;
  const essV = f32x4.splat(ess), wdV = f32x4.splat(weightDecay), b1V = f32x4.splat(beta1), omb1V = f32x4.splat(oneMinusBeta1);
  const b2V = f32x4.splat(beta2), omb2V = f32x4.splat(oneMinusBeta2), cV = f32x4.splat(curvCoef), dbV = f32x4.splat(invDebias);
  const aV = f32x4.splat(alpha), clipV = f32x4.splat(clipRadius), negClipV = f32x4.splat(-clipRadius);
  if (epsilon != 0) {
    updateFusedAndSampleGiven(mean, hess, momentum, grad, noise, theta, epsilon, priorMean, priorPrecision, count, price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius,
      essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    return;
  }
  resetNormalCache();
  const next = step + 1;
  let i: i32 = 0;
  if (priorPrecision != 0) {
    // The prior path: 16 elements at a time, δ_j and μ_j loaded where the update needs them.
    while (i < count && ((first + <u32>i) & 15) != 0) {
      fusedAndSampleOnePrior(i, mean, hess, momentum, grad, noise, theta, priorMean, priorPrecision, first, next, seedLo, seedHi, price,
        ess, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
      i++;
    }
    for (; i + 16 <= count; i += 16) {
      const o = <usize>i << 2;
      for (let k: usize = 0; k < 64; k += 16) {
        const g = v128.load(grad + o + k);
        const x = price ? f32x4.mul(v128.load(noise + o + k), g) : f32x4.mul(g, g);
        updateQuadPrior(mean + o + k, hess + o + k, momentum + o + k, g, x, priorMean + o + k, priorPrecision + o + k, price, essV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
      }
      normalsTo(noise + o, (first + <u32>i) >>> 4, 0, next, 0, seedLo, seedHi);
      for (let k: usize = 0; k < 64; k += 16) {
        sampleQuad(mean + o + k, hess + o + k, noise + o + k, theta + o + k, v128.load(noise + o + k), essV, v128.load(priorPrecision + o + k));
      }
    }
    for (; i < count; i++) {
      fusedAndSampleOnePrior(i, mean, hess, momentum, grad, noise, theta, priorMean, priorPrecision, first, next, seedLo, seedHi, price,
        ess, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
    }
    return;
  }
  // Elements before the first 32-element chunk and after the last: update, then draw, one by one.
  while (i < count && ((first + <u32>i) & 15) != 0) {
    fusedAndSampleOne(i, mean, hess, momentum, grad, noise, theta, first, next, seedLo, seedHi, price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
    i++;
  }
  for (; i + 32 <= count; i += 32) {
    const o = <usize>i << 2;
    for (let k: usize = 0; k < 128; k += 16) {
      updateFusedQuad(mean + o + k, hess + o + k, momentum + o + k, grad + o + k, noise + o + k, price, essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    }
    normalsTo2(noise + o, (first + <u32>i) >>> 4, 0, next, 0, seedLo, seedHi);
    for (let k: usize = 0; k < 128; k += 16) {
      sampleQuad(mean + o + k, hess + o + k, noise + o + k, theta + o + k, v128.load(noise + o + k), essV, wdV);
    }
  }
  for (; i + 16 <= count; i += 16) {
    const o = <usize>i << 2;
    for (let k: usize = 0; k < 64; k += 16) {
      updateFusedQuad(mean + o + k, hess + o + k, momentum + o + k, grad + o + k, noise + o + k, price, essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    }
    normalsTo(noise + o, (first + <u32>i) >>> 4, 0, next, 0, seedLo, seedHi);
    for (let k: usize = 0; k < 64; k += 16) {
      sampleQuad(mean + o + k, hess + o + k, noise + o + k, theta + o + k, v128.load(noise + o + k), essV, wdV);
    }
  }
  for (; i < count; i++) {
    fusedAndSampleOne(i, mean, hess, momentum, grad, noise, theta, first, next, seedLo, seedHi, price,
      ess, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, curvCoef, invDebias, alpha, clipRadius);
  }
}

// @ts-ignore: decorator
@inline function fusedAndSampleOne(
  i: i32, mean: usize, hess: usize, momentum: usize, grad: usize, noise: usize, theta: usize, first: u32,
  next: u32, seedLo: u32, seedHi: u32, price: bool,
  ess: f32, wd: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
): void {
  const o = <usize>i << 2;
  const g = load<f32>(grad + o);
  const x: f32 = price ? load<f32>(noise + o) * g : g * g;
  updateOne(mean + o, hess + o, momentum + o, g, x, price, ess, wd, beta1, omb1, beta2, omb2, curvCoef, invDebias, alpha, clip);
  sampleOne(mean + o, hess + o, noise + o, theta + o, normalAt(first + <u32>i, 0, next, 0, seedLo, seedHi), ess, wd);
}

// @ts-ignore: decorator
@inline function fusedAndSampleOnePrior(
  i: i32, mean: usize, hess: usize, momentum: usize, grad: usize, noise: usize, theta: usize, priorMean: usize, priorPrecision: usize, first: u32,
  next: u32, seedLo: u32, seedHi: u32, price: bool,
  ess: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
): void {
  const o = <usize>i << 2;
  const g = load<f32>(grad + o);
  const x: f32 = price ? load<f32>(noise + o) * g : g * g;
  updateOnePrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price, ess, beta1, omb1, beta2, omb2, curvCoef, invDebias, alpha, clip);
  sampleOne(mean + o, hess + o, noise + o, theta + o, normalAt(first + <u32>i, 0, next, 0, seedLo, seedHi), ess, load<f32>(priorPrecision + o));
}

/**
 * ivonUpdateFusedAndSample's body when the next z is in `epsilon`: per 4 elements, the update and
 * then θ = m' + σ'⊙z with every value still in registers. No counter, so no alignment head.
 */
// @ts-ignore: decorator
@inline function updateFusedAndSampleGiven(
  mean: usize, hess: usize, momentum: usize, grad: usize, noise: usize, theta: usize, epsilon: usize, priorMean: usize, priorPrecision: usize,
  count: i32, price: bool,
  ess: f32, wd: f32, beta1: f32, omb1: f32, beta2: f32, omb2: f32, curvCoef: f32, invDebias: f32, alpha: f32, clip: f32,
  essV: v128, wdV: v128, b1V: v128, omb1V: v128, b2V: v128, omb2V: v128, cV: v128, dbV: v128, aV: v128, clipV: v128, negClipV: v128,
): void {
  const end = <usize>count << 2;
  const vectorEnd = end & ~(<usize>15);
  let o: usize = 0;
  if (priorPrecision != 0) {
    for (; o < vectorEnd; o += 16) {
      const g = v128.load(grad + o);
      const x = price ? f32x4.mul(v128.load(noise + o), g) : f32x4.mul(g, g);
      updateQuadPrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price, essV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
      sampleQuad(mean + o, hess + o, noise + o, theta + o, v128.load(epsilon + o), essV, v128.load(priorPrecision + o));
    }
    for (; o < end; o += 4) {
      const g = load<f32>(grad + o);
      const x: f32 = price ? load<f32>(noise + o) * g : g * g;
      updateOnePrior(mean + o, hess + o, momentum + o, g, x, priorMean + o, priorPrecision + o, price, ess, beta1, omb1, beta2, omb2, curvCoef, invDebias, alpha, clip);
      sampleOne(mean + o, hess + o, noise + o, theta + o, load<f32>(epsilon + o), ess, load<f32>(priorPrecision + o));
    }
    return;
  }
  for (; o < vectorEnd; o += 16) {
    updateFusedQuad(mean + o, hess + o, momentum + o, grad + o, noise + o, price, essV, wdV, b1V, omb1V, b2V, omb2V, cV, dbV, aV, clipV, negClipV);
    sampleQuad(mean + o, hess + o, noise + o, theta + o, v128.load(epsilon + o), essV, wdV);
  }
  for (; o < end; o += 4) {
    const g = load<f32>(grad + o);
    const x: f32 = price ? load<f32>(noise + o) * g : g * g;
    updateOne(mean + o, hess + o, momentum + o, g, x, price, ess, wd, beta1, omb1, beta2, omb2, curvCoef, invDebias, alpha, clip);
    sampleOne(mean + o, hess + o, noise + o, theta + o, load<f32>(epsilon + o), ess, wd);
  }
}
