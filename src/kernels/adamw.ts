// AdamW (decoupled weight decay, Loshchilov & Hutter) and SGD with momentum, in the same kernel
// style as IVON's so that benchmarks and training comparisons are like for like.

const f = Math.fround;

/** Kernel `adamwUpdate` (docs/KERNELS.md §2). */
export function adamwUpdate(
  param: Float32Array,
  grad: Float32Array,
  expAvg: Float32Array,
  expAvgSq: Float32Array,
  count: number,
  stepSize: number,
  decayFactor: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  eps: number,
  invBiasCorrection2Sqrt: number,
): void {
  const [ss, df, b1, omb1, b2, omb2, ep, invBc2] = [stepSize, decayFactor, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, invBiasCorrection2Sqrt].map(f);
  for (let i = 0; i < count; i++) {
    const g = grad[i];
    const p = f(param[i] * df);
    const m = f(f(b1 * expAvg[i]) + f(omb1 * g));
    const v = f(f(b2 * expAvgSq[i]) + f(f(omb2 * g) * g));
    const denom = f(f(f(Math.sqrt(v)) * invBc2) + ep);
    expAvg[i] = m;
    expAvgSq[i] = v;
    param[i] = f(p - f(ss * f(m / denom)));
  }
}

/** Kernel `sgdUpdate`: g = grad + wd·param; buf = μ·buf + g; param -= lr·buf. */
export function sgdUpdate(
  param: Float32Array,
  grad: Float32Array,
  momentumBuf: Float32Array,
  count: number,
  lr: number,
  momentum: number,
  weightDecay: number,
): void {
  const [lrF, mu, wd] = [lr, momentum, weightDecay].map(f);
  for (let i = 0; i < count; i++) {
    const p = param[i];
    const g = f(grad[i] + f(wd * p));
    const buf = f(f(mu * momentumBuf[i]) + g);
    momentumBuf[i] = buf;
    param[i] = f(p - f(lrF * buf));
  }
}
