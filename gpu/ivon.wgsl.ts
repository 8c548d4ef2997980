// IVON's per-element kernels in WGSL, one vec4 (or one 16-element RNG group) per invocation, in
// exactly docs/KERNELS.md's evaluation order. Partial vec4s at the end of a range keep the lanes
// outside it unchanged (read, select, write back), so a range never disturbs its neighbours.

import { rngWgsl } from './philox.wgsl.js';

/**
 * `ivonSample`: σ = 1/sqrt(ess·(hess+wd)); noise = σ·z(first+i); theta = mean + noise.
 * One invocation per 16 elements (4 Philox blocks). ints0 = (sample, step, stream, seedLo),
 * ints1.x = seedHi, f0.xy = (ess, weightDecay). Requires first and base to be multiples of 16 / 4.
 */
export const ivonSampleBody = /* wgsl */ `
${rngWgsl}
// One vec4 of the group; z is a column taken with a constant index (a dynamic index into a local
// matrix may be spilled to slow local memory).
fn sampleVec4(v: u32, done: u32, z: vec4<f32>) {
  if (done >= params.count) { return; }
  let sigma = 1.0 / sqrt(params.f0.x * (hess[v] + params.f0.y));
  let n = sigma * z;
  let th = mean[v] + n;
  let keep = laneMask(done);
  if (all(keep)) {
    noise[v] = n;
    theta[v] = th;
  } else {
    noise[v] = select(noise[v], n, keep);
    theta[v] = select(theta[v], th, keep);
  }
}
fn run(inv: u32, lid: u32) {
  let done = inv * 16u;
  if (done >= params.count) { return; }
  let a = params.ints0;
  let z = normals16(params.first + done, a.x, a.y, a.z, vec2<u32>(a.w, params.ints1.x));
  let v = params.base / 4u + inv * 4u;
  sampleVec4(v, done, z[0]);
  sampleVec4(v + 1u, done + 4u, z[1]);
  sampleVec4(v + 2u, done + 8u, z[2]);
  sampleVec4(v + 3u, done + 12u, z[3]);
}
`;

/** `ivonSampleGiven`: noise holds ε on entry; noise = σ·ε; theta = mean + noise. f0.xy = (ess, weightDecay). */
export const ivonSampleGivenBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let sigma = 1.0 / sqrt(params.f0.x * (hess[v] + params.f0.y));
  let eps = noise[v];
  let n = sigma * eps;
  let keep = laneMask(done);
  noise[v] = select(eps, n, keep);
  theta[v] = select(theta[v], mean[v] + n, keep);
}
`;

/** `ivonAccumulate`: Welford means of grad and of noise·grad (price, ints0.x = 0) or grad² (gradsq). f0.x = sampleCount. */
export const ivonAccumulateBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let k = params.f0.x;
  let g = grad[v];
  let gm = gradMean[v];
  let cm = curvMean[v];
  let x = select(g * g, noise[v] * g, params.ints0.x == 0u);
  let keep = laneMask(done);
  gradMean[v] = select(gm, gm + (g - gm) / k, keep);
  curvMean[v] = select(cm, cm + (x - cm) / k, keep);
}
`;

/**
 * The IVON step shared by ivonUpdate and ivonUpdateFused. ints0.x = hessApprox (0 price, 1 gradsq);
 * f0 = (ess, weightDecay, beta1, oneMinusBeta1), f1 = (beta2, oneMinusBeta2, curvCoef, debias),
 * f2.xy = (alpha, clipRadius).
 */
const ivonStepWgsl = /* wgsl */ `
fn ivonStep(v: u32, done: u32, gradMeanV: vec4<f32>, curvMeanV: vec4<f32>) {
  let ess = params.f0.x;
  let wd = params.f0.y;
  let h = hess[v];
  let m = mean[v];
  let hd = h + wd;
  let hhat = select(ess * curvMeanV, (curvMeanV * hd) * ess, params.ints0.x == 0u);
  let g = params.f0.z * momentum[v] + params.f0.w * gradMeanV;
  let d = h - hhat;
  let hNew = (params.f1.x * h + params.f1.y * hhat) + (params.f1.z * (d * d)) / hd;
  let r = params.f2.y;
  let u = clamp((g / params.f1.w + wd * m) / (hNew + wd), vec4<f32>(-r), vec4<f32>(r));
  let keep = laneMask(done);
  momentum[v] = select(momentum[v], g, keep);
  hess[v] = select(h, hNew, keep);
  mean[v] = select(m, m - params.f2.x * u, keep);
}
`;

/** `ivonUpdate`: the step from the accumulated means. */
export const ivonUpdateBody = /* wgsl */ `
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  ivonStep(v, done, gradMean[v], curvMean[v]);
}
`;

/** `ivonUpdateFused`: one sample, gradMean = grad, curvMean = noise·grad or grad². */
export const ivonUpdateFusedBody = /* wgsl */ `
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let g = grad[v];
  ivonStep(v, done, g, select(g * g, noise[v] * g, params.ints0.x == 0u));
}
`;
