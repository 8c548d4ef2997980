// AdamW and SGD-with-momentum in WGSL, the baselines IVON is benchmarked against on the GPU; same
// order of operations as src/kernels/adamw.ts. One vec4 per invocation.

/**
 * `adamwUpdate` over (param = mean, grad, expAvg = momentum, expAvgSq). f0 = (stepSize,
 * decayFactor, beta1, oneMinusBeta1), f1 = (beta2, oneMinusBeta2, eps, invBiasCorrection2Sqrt).
 */
export const adamwUpdateBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let g = grad[v];
  let p0 = param[v];
  let m0 = expAvg[v];
  let s0 = expAvgSq[v];
  let p = p0 * params.f0.y;
  let m = params.f0.z * m0 + params.f0.w * g;
  let s = params.f1.x * s0 + (params.f1.y * g) * g;
  let denom = sqrt(s) * params.f1.w + params.f1.z;
  let keep = laneMask(done);
  expAvg[v] = select(m0, m, keep);
  expAvgSq[v] = select(s0, s, keep);
  param[v] = select(p0, p - params.f0.x * (m / denom), keep);
}
`;

/** `sgdUpdate`: g = grad + wd·param; buf = μ·buf + g; param -= lr·buf. f0.xyz = (lr, momentum, weightDecay). */
export const sgdUpdateBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let p = param[v];
  let b0 = momentumBuf[v];
  let g = grad[v] + params.f0.z * p;
  let b = params.f0.y * b0 + g;
  let keep = laneMask(done);
  momentumBuf[v] = select(b0, b, keep);
  param[v] = select(p, p - params.f0.x * b, keep);
}
`;
