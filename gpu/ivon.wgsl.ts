// IVON's per-element kernels in WGSL, one vec4 per invocation, in exactly docs/KERNELS.md's
// evaluation order. Partial vec4s at the end of a range keep the lanes outside it unchanged (read,
// select, write back), so a range never disturbs its neighbours.
//
// The per-element prior: the kernels read δ through deltaAt(v) and the update's decay term through
// decayTerm(δ, m, v). The uniform prior defines them from the group's weightDecay (f0.y) and μ₀ = 0
// — the expressions the kernels always computed — and each kernel's prior variant (bindings
// priorMean, priorPrecision appended; the sampling kernels take priorPrecision only) from the
// per-element buffers. Each kernel that uses δ is one body text compiled twice (gpu/kernels.ts).

import { rngWgsl } from './philox.wgsl.js';

/** δ = the group's weightDecay (f0.y in every kernel that has one), decay toward 0: today's formulas. */
const uniformPriorWgsl = /* wgsl */ `
fn deltaAt(v: u32) -> vec4<f32> { return vec4<f32>(params.f0.y); }
fn decayTerm(wd: vec4<f32>, m: vec4<f32>, v: u32) -> vec4<f32> { return wd * m; }
`;

/** δ_j from priorPrecision; with the mean, the decay pulls toward μ_j (priorMean). */
function elementPriorWgsl(withMean: boolean): string {
  const decay = withMean ? 'fn decayTerm(wd: vec4<f32>, m: vec4<f32>, v: u32) -> vec4<f32> { return wd * (m - priorMean[v]); }' : '';
  return /* wgsl */ `
fn deltaAt(v: u32) -> vec4<f32> { return priorPrecision[v]; }
${decay}
`;
}

/**
 * The normals of one vec4 of a 16-element group (docs/KERNELS.md mapping). The four invocations
 * of a group each draw one Philox block and swap outputs through workgroup memory: element e takes
 * output (e >> 2) & 3 of block ((e >> 4) << 2) | (e & 3). Measured on an H100 at 64M elements:
 * 0.56 ms for ivonSample, against 1.36 ms for one invocation drawing all four blocks of a group
 * (too few threads for the RNG's long dependency chains). Every invocation must call it (barrier).
 * counter = (sample, step, stream, unused), key = (seedLo, seedHi).
 */
const groupNormalsWgsl = /* wgsl */ `
var<workgroup> groupNormals: array<f32, 256>;
fn groupEpsilon(inv: u32, lid: u32, counter: vec4<u32>, key: vec2<u32>) -> vec4<f32> {
  let group = inv >> 2u;
  let lane = inv & 3u;
  let block = ((params.first >> 4u) + group) * 4u + lane;
  let z = normalsOfBits(philox4x32(vec4<u32>(block, counter.x, counter.y, counter.z), key));
  groupNormals[lid * 4u] = z.x;
  groupNormals[lid * 4u + 1u] = z.y;
  groupNormals[lid * 4u + 2u] = z.z;
  groupNormals[lid * 4u + 3u] = z.w;
  workgroupBarrier();
  let g = (lid & ~3u) * 4u;
  return vec4<f32>(groupNormals[g + lane], groupNormals[g + 4u + lane], groupNormals[g + 8u + lane], groupNormals[g + 12u + lane]);
}
`;

/**
 * `ivonSample`: σ = 1/sqrt(ess·(hess+wd)); noise = σ·z(first+i); theta = mean + noise.
 * ints0 = (sample, step, stream, seedLo), ints1.x = seedHi, f0.xy = (ess, weightDecay); first must
 * be a multiple of 16. One invocation per vec4 and per Philox block: the four invocations of a
 * 16-element group each draw one block, swap normals through workgroup memory (element e takes
 * output (e >> 2) & 3 of block ((e >> 4) << 2) | (e & 3)) and write their own vec4. Measured on an
 * H100 at 64M elements: 0.56 ms, against 1.36 ms for one invocation drawing all four blocks of a
 * group (too few threads for the RNG's long dependency chains).
 */
const sampleBody = (prior: string) => /* wgsl */ `
${rngWgsl}
${groupNormalsWgsl}
${prior}
fn run(inv: u32, lid: u32) {
  let a = params.ints0;
  let eps = groupEpsilon(inv, lid, vec4<u32>(a.x, a.y, a.z, 0u), vec2<u32>(a.w, params.ints1.x));
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let sigma = 1.0 / sqrt(params.f0.x * (hess[v] + deltaAt(v)));
  let n = sigma * eps;
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
`;
export const ivonSampleBody = sampleBody(uniformPriorWgsl);
export const ivonSamplePriorBody = sampleBody(elementPriorWgsl(false));

/** `ivonDraw`: theta = mean + σ·z(first+i) without storing the noise. Scalars as ivonSample. */
const drawBody = (prior: string) => /* wgsl */ `
${rngWgsl}
${groupNormalsWgsl}
${prior}
fn run(inv: u32, lid: u32) {
  let a = params.ints0;
  let eps = groupEpsilon(inv, lid, vec4<u32>(a.x, a.y, a.z, 0u), vec2<u32>(a.w, params.ints1.x));
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let sigma = 1.0 / sqrt(params.f0.x * (hess[v] + deltaAt(v)));
  theta[v] = select(theta[v], mean[v] + sigma * eps, laneMask(done));
}
`;
export const ivonDrawBody = drawBody(uniformPriorWgsl);
export const ivonDrawPriorBody = drawBody(elementPriorWgsl(false));

/** `ivonSampleGiven`: noise holds ε on entry; noise = σ·ε; theta = mean + noise. f0.xy = (ess, weightDecay). */
const sampleGivenBody = (prior: string) => /* wgsl */ `
${prior}
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let sigma = 1.0 / sqrt(params.f0.x * (hess[v] + deltaAt(v)));
  let eps = noise[v];
  let n = sigma * eps;
  let keep = laneMask(done);
  noise[v] = select(eps, n, keep);
  theta[v] = select(theta[v], mean[v] + n, keep);
}
`;
export const ivonSampleGivenBody = sampleGivenBody(uniformPriorWgsl);
export const ivonSampleGivenPriorBody = sampleGivenBody(elementPriorWgsl(false));

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
 * The IVON step shared by the update kernels. ints0.x = hessApprox (0 price, 1 gradsq);
 * f0 = (ess, weightDecay, beta1, oneMinusBeta1), f1 = (beta2, oneMinusBeta2, curvCoef, invDebias),
 * f2.xy = (alpha, clipRadius). δ and the decay term come from deltaAt / decayTerm.
 */
const ivonStepWgsl = /* wgsl */ `
fn ivonStep(v: u32, done: u32, gradMeanV: vec4<f32>, curvMeanV: vec4<f32>) {
  let ess = params.f0.x;
  let wd = deltaAt(v);
  let h = hess[v];
  let m = mean[v];
  let hd = h + wd;
  let hhat = select(ess * curvMeanV, (curvMeanV * hd) * ess, params.ints0.x == 0u);
  let g = params.f0.z * momentum[v] + params.f0.w * gradMeanV;
  let d = h - hhat;
  let hNew = (params.f1.x * h + params.f1.y * hhat) + (params.f1.z * (d * d)) / hd;
  let r = params.f2.y;
  let u = clamp((g * params.f1.w + decayTerm(wd, m, v)) / (hNew + wd), vec4<f32>(-r), vec4<f32>(r));
  let keep = laneMask(done);
  momentum[v] = select(momentum[v], g, keep);
  hess[v] = select(h, hNew, keep);
  mean[v] = select(m, m - params.f2.x * u, keep);
}
`;

/** `ivonUpdate`: the step from the accumulated means. */
const updateBody = (prior: string) => /* wgsl */ `
${prior}
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  ivonStep(v, done, gradMean[v], curvMean[v]);
}
`;
export const ivonUpdateBody = updateBody(uniformPriorWgsl);
export const ivonUpdatePriorBody = updateBody(elementPriorWgsl(true));

/** `ivonUpdateFused`: one sample, gradMean = grad, curvMean = noise·grad or grad². */
const updateFusedBody = (prior: string) => /* wgsl */ `
${prior}
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let g = grad[v];
  ivonStep(v, done, g, select(g * g, noise[v] * g, params.ints0.x == 0u));
}
`;
export const ivonUpdateFusedBody = updateFusedBody(uniformPriorWgsl);
export const ivonUpdateFusedPriorBody = updateFusedBody(elementPriorWgsl(true));

/**
 * `ivonUpdateRedraw`: ivonUpdateFused with noise = σ(old hess)·z recomputed from its counter
 * instead of read: 8 fewer bytes per element than sample + fused update with a stored noise.
 * ints0 = (hessApprox, seedHi), ints1 = (sample, step, stream, seedLo); floats as ivonUpdate.
 */
const updateRedrawBody = (prior: string) => /* wgsl */ `
${rngWgsl}
${groupNormalsWgsl}
${prior}
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  let b = params.ints1;
  let eps = groupEpsilon(inv, lid, vec4<u32>(b.x, b.y, b.z, 0u), vec2<u32>(b.w, params.ints0.y));
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let g = grad[v];
  let n = (1.0 / sqrt(params.f0.x * (hess[v] + deltaAt(v)))) * eps;
  ivonStep(v, done, g, select(g * g, n * g, params.ints0.x == 0u));
}
`;
export const ivonUpdateRedrawBody = updateRedrawBody(uniformPriorWgsl);
export const ivonUpdateRedrawPriorBody = updateRedrawBody(elementPriorWgsl(true));

/**
 * `ivonUpdateAndDraw`: ivonUpdateRedraw, then theta = mean' + σ(hess')·z for the next step's first
 * sample (counter (0, step + 1, 0)), in the same pass: 32 bytes per element for a whole IVON step.
 * Scalars as ivonUpdateRedraw.
 */
const updateAndDrawBody = (prior: string) => /* wgsl */ `
${rngWgsl}
${groupNormalsWgsl}
${prior}
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  let b = params.ints1;
  let key = vec2<u32>(b.w, params.ints0.y);
  let eps = groupEpsilon(inv, lid, vec4<u32>(b.x, b.y, b.z, 0u), key);
  workgroupBarrier(); // groupNormals is reused for the next draw
  let next = groupEpsilon(inv, lid, vec4<u32>(0u, b.y + 1u, 0u, 0u), key);
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let g = grad[v];
  let wd = deltaAt(v);
  let n = (1.0 / sqrt(params.f0.x * (hess[v] + wd))) * eps;
  ivonStep(v, done, g, select(g * g, n * g, params.ints0.x == 0u));
  let sigma = 1.0 / sqrt(params.f0.x * (hess[v] + wd));
  theta[v] = select(theta[v], mean[v] + sigma * next, laneMask(done));
}
`;
export const ivonUpdateAndDrawBody = updateAndDrawBody(uniformPriorWgsl);
export const ivonUpdateAndDrawPriorBody = updateAndDrawBody(elementPriorWgsl(true));

/**
 * `ivonUpdateFusedAndSample`: ivonUpdateFused (noise read from its buffer), then the next step's
 * first sample (counter (0, step + 1, 0)) into noise and theta. Scalars as ivonUpdateRedraw.
 * `next` says where the next sample's z comes from: 'draw' computes it from the counter (every
 * invocation joins groupEpsilon's barrier before any returns); 'epsilon' reads it from the
 * `epsilon` binding, where drawEpsilon put the same values earlier — no RNG in that module at all.
 */
const updateFusedAndSampleBody = (prior: string, next: 'draw' | 'epsilon') => /* wgsl */ `
${next === 'draw' ? `${rngWgsl}\n${groupNormalsWgsl}` : ''}
${prior}
${ivonStepWgsl}
fn run(inv: u32, lid: u32) {
  ${next === 'draw' ? 'let b = params.ints1;\n  let next = groupEpsilon(inv, lid, vec4<u32>(0u, b.y + 1u, 0u, 0u), vec2<u32>(b.w, params.ints0.y));' : ''}
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  ${next === 'epsilon' ? 'let next = epsilon[v];' : ''}
  let g = grad[v];
  ivonStep(v, done, g, select(g * g, noise[v] * g, params.ints0.x == 0u));
  let n = (1.0 / sqrt(params.f0.x * (hess[v] + deltaAt(v)))) * next;
  let keep = laneMask(done);
  noise[v] = select(noise[v], n, keep);
  theta[v] = select(theta[v], mean[v] + n, keep);
}
`;
export const ivonUpdateFusedAndSampleBody = updateFusedAndSampleBody(uniformPriorWgsl, 'draw');
export const ivonUpdateFusedAndSamplePriorBody = updateFusedAndSampleBody(elementPriorWgsl(true), 'draw');
export const ivonUpdateFusedAndSampleEpsilonBody = updateFusedAndSampleBody(uniformPriorWgsl, 'epsilon');
export const ivonUpdateFusedAndSampleEpsilonPriorBody = updateFusedAndSampleBody(elementPriorWgsl(true), 'epsilon');
