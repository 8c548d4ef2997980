// Float64 references for the posterior tests (src/posterior): a float64 forward/backward of the
// toolkit's Sequential models, central finite-difference Jacobians, deterministic full-batch
// trainers (Newton for the softmax-regression model, L-BFGS for MLPs) that minimise
//   L(θ) = Σ_i CE_i(θ) + (P/2)·‖θ‖²   (P = ess·δ, IVON's objective scaled by N when ess = N)
// to convergence, and Pearson / Spearman correlations. Nothing here shares code with src/posterior.
import { activate, activationSlope } from '../src/nn/ops.js';
import type { Sequential } from '../src/nn/network.js';

export type Params64 = Record<string, Float64Array>;

export function toParams64(p: Record<string, Float32Array>): Params64 {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));
}

export function toParams32(p: Params64): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float32Array.from(v)]));
}

/** Float64 forward of one row; returns every layer's input and output (for backward). */
function forwardTrace(model: Sequential, theta: Params64, x: ArrayLike<number>): number[][] {
  const trace: number[][] = [Array.from(x)];
  for (const layer of model.layers) {
    const a = trace[trace.length - 1];
    if (layer.type === 'activation') {
      trace.push(a.map((v) => activate(layer.fn, v)));
      continue;
    }
    const W = theta[layer.weightName];
    const b = layer.bias ? theta[layer.biasName] : undefined;
    const y = new Array<number>(layer.outFeatures).fill(0);
    for (let p = 0; p < layer.outFeatures; p++) {
      let s = b ? b[p] : 0;
      for (let q = 0; q < layer.inFeatures; q++) s += a[q] * W[q * layer.outFeatures + p];
      y[p] = s;
    }
    trace.push(y);
  }
  return trace;
}

export function forward64(model: Sequential, theta: Params64, x: ArrayLike<number>): number[] {
  const t = forwardTrace(model, theta, x);
  return t[t.length - 1];
}

/** Adds ∂(dOutᵀ f(x))/∂θ into grad. */
function backward64(model: Sequential, theta: Params64, trace: number[][], dOut: number[], grad: Params64): void {
  let d = dOut.slice();
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i];
    const a = trace[i];
    if (layer.type === 'activation') {
      d = d.map((v, j) => v * activationSlope(layer.fn, a[j], trace[i + 1][j]));
      continue;
    }
    const W = theta[layer.weightName];
    const gW = grad[layer.weightName];
    for (let q = 0; q < layer.inFeatures; q++) for (let p = 0; p < layer.outFeatures; p++) gW[q * layer.outFeatures + p] += a[q] * d[p];
    if (layer.bias) for (let p = 0; p < layer.outFeatures; p++) grad[layer.biasName][p] += d[p];
    const next = new Array<number>(layer.inFeatures).fill(0);
    for (let q = 0; q < layer.inFeatures; q++) {
      let s = 0;
      for (let p = 0; p < layer.outFeatures; p++) s += W[q * layer.outFeatures + p] * d[p];
      next[q] = s;
    }
    d = next;
  }
}

/** diag(J diag(σ²) Jᵀ) per row and output by central differences of the float64 forward. */
export function finiteDifferenceVariance(model: Sequential, theta: Params64, sigma2: Record<string, ArrayLike<number>>, x: Float32Array, rows: number, step = 1e-5): Float64Array {
  const inF = model.inFeatures;
  const K = model.outFeatures;
  const v = new Float64Array(rows * K);
  for (const name of Object.keys(theta)) {
    const w = theta[name];
    for (let j = 0; j < w.length; j++) {
      const keep = w[j];
      for (let i = 0; i < rows; i++) {
        const xi = x.subarray(i * inF, (i + 1) * inF);
        w[j] = keep + step;
        const up = forward64(model, theta, xi);
        w[j] = keep - step;
        const down = forward64(model, theta, xi);
        w[j] = keep;
        for (let k = 0; k < K; k++) {
          const jac = (up[k] - down[k]) / (2 * step);
          v[i * K + k] += jac * jac * sigma2[name][j];
        }
      }
    }
  }
  return v;
}

export function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export interface Dataset64 {
  x: Float32Array;
  labels: Int32Array;
  rows: number;
}

/** L(θ) = Σ_{i∈rows} CE_i + (P/2)‖θ‖² and its gradient (skip: a row left out). */
export function objective(model: Sequential, theta: Params64, data: Dataset64, P: number, skip = -1): { value: number; grad: Params64 } {
  const grad: Params64 = Object.fromEntries(Object.entries(theta).map(([k, v]) => [k, new Float64Array(v.length)]));
  let value = 0;
  const inF = model.inFeatures;
  for (let i = 0; i < data.rows; i++) {
    if (i === skip) continue;
    const xi = data.x.subarray(i * inF, (i + 1) * inF);
    const trace = forwardTrace(model, theta, xi);
    const p = softmax(trace[trace.length - 1]);
    value -= Math.log(p[data.labels[i]]);
    backward64(model, theta, trace, p.map((v, k) => v - (k === data.labels[i] ? 1 : 0)), grad);
  }
  for (const [k, w] of Object.entries(theta)) {
    for (let j = 0; j < w.length; j++) {
      value += 0.5 * P * w[j] * w[j];
      grad[k][j] += P * w[j];
    }
  }
  return { value, grad };
}

const names = (t: Params64) => Object.keys(t).sort();
function flatten(t: Params64): Float64Array {
  const parts = names(t).map((k) => t[k]);
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function unflatten(like: Params64, flat: Float64Array): Params64 {
  const out: Params64 = {};
  let o = 0;
  for (const k of names(like)) {
    out[k] = flat.slice(o, o + like[k].length);
    o += like[k].length;
  }
  return out;
}
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/** L-BFGS (memory 20, backtracking Armijo line search) until ‖∇L‖∞ < tol. */
export function lbfgs(model: Sequential, start: Params64, data: Dataset64, P: number, skip = -1, tol = 1e-9, maxIter = 5000, stats?: { iterations: number; gradNorm: number }): Params64 {
  let x = flatten(start);
  const f = (v: Float64Array) => {
    const r = objective(model, unflatten(start, v), data, P, skip);
    return { value: r.value, grad: flatten(r.grad) };
  };
  let cur = f(x);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  for (let it = 0; it < maxIter; it++) {
    const gradNorm = Math.max(...cur.grad.map(Math.abs));
    if (stats) Object.assign(stats, { iterations: it, gradNorm });
    if (gradNorm < tol) break;
    // Two-loop recursion for the direction −H·g.
    const q = Float64Array.from(cur.grad);
    const alphas: number[] = [];
    for (let m = S.length - 1; m >= 0; m--) {
      const a = dot(S[m], q) / dot(Y[m], S[m]);
      alphas[m] = a;
      for (let j = 0; j < q.length; j++) q[j] -= a * Y[m][j];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[S.length - 1]) / dot(Y[S.length - 1], Y[S.length - 1]) : 1e-3;
    for (let j = 0; j < q.length; j++) q[j] *= gamma;
    for (let m = 0; m < S.length; m++) {
      const b = dot(Y[m], q) / dot(Y[m], S[m]);
      for (let j = 0; j < q.length; j++) q[j] += S[m][j] * (alphas[m] - b);
    }
    const dir = q.map((v) => -v);
    let slope = dot(dir, cur.grad);
    if (!(slope < 0)) {
      S.length = 0;
      Y.length = 0;
      for (let j = 0; j < dir.length; j++) dir[j] = -cur.grad[j] * 1e-3;
      slope = dot(dir, cur.grad);
    }
    let t = 1;
    let next = f(x.map((v, j) => v + t * dir[j]));
    // Armijo, with slack for float64 rounding of L near the optimum (there the decrease is below it).
    const slack = 1e-13 * Math.abs(cur.value);
    while (next.value > cur.value + 1e-4 * t * slope + slack && t > 1e-10) {
      t /= 2;
      next = f(x.map((v, j) => v + t * dir[j]));
    }
    const xn = x.map((v, j) => v + t * dir[j]);
    const s = xn.map((v, j) => v - x[j]);
    const y = next.grad.map((v, j) => v - cur.grad[j]);
    if (dot(s, y) > 1e-300) {
      S.push(s);
      Y.push(y);
      if (S.length > 20) {
        S.shift();
        Y.shift();
      }
    }
    x = xn;
    cur = next;
  }
  return unflatten(start, x);
}

/** Newton's method with the exact Hessian for a single-Linear softmax model (softmax regression). */
export function newtonSoftmaxRegression(model: Sequential, start: Params64, data: Dataset64, P: number, skip = -1, tol = 1e-12): Params64 {
  const layer = model.layers[0];
  if (model.layers.length !== 1 || layer.type !== 'linear' || !layer.bias) throw new Error('newtonSoftmaxRegression: one Linear layer with bias');
  const d = layer.inFeatures;
  const K = layer.outFeatures;
  const D = (d + 1) * K; // index: feature q (d = bias) × class k → q·K + k
  const W = Float64Array.from(start[layer.weightName]);
  const b = Float64Array.from(start[layer.biasName]);
  for (let it = 0; it < 100; it++) {
    const g = new Float64Array(D);
    const H = Array.from({ length: D }, () => new Float64Array(D));
    for (let i = 0; i < data.rows; i++) {
      if (i === skip) continue;
      const xi = [...Array.from(data.x.subarray(i * d, (i + 1) * d)), 1];
      const z = Array.from({ length: K }, (_, k) => b[k] + xi.slice(0, d).reduce((s, v, q) => s + v * W[q * K + k], 0));
      const p = softmax(z);
      for (let q = 0; q <= d; q++) {
        for (let k = 0; k < K; k++) {
          g[q * K + k] += xi[q] * (p[k] - (k === data.labels[i] ? 1 : 0));
          for (let r = 0; r <= d; r++) for (let l = 0; l < K; l++) H[q * K + k][r * K + l] += xi[q] * xi[r] * ((k === l ? p[k] : 0) - p[k] * p[l]);
        }
      }
    }
    for (let q = 0; q <= d; q++) {
      for (let k = 0; k < K; k++) {
        const w = q < d ? W[q * K + k] : b[k];
        g[q * K + k] += P * w;
        H[q * K + k][q * K + k] += P;
      }
    }
    const step = solve(H, g);
    for (let q = 0; q <= d; q++) for (let k = 0; k < K; k++) (q < d ? W : b)[q < d ? q * K + k : k] -= step[q * K + k];
    if (Math.max(...g.map(Math.abs)) < tol) break;
  }
  return { [layer.weightName]: W, [layer.biasName]: b };
}

/** Solves A·x = y by Gaussian elimination with partial pivoting (A is copied). */
export function solve(A: Float64Array[], y: Float64Array): Float64Array {
  const n = y.length;
  const M = A.map((row, i) => [...row, y[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function ranks(a: ArrayLike<number>): number[] {
  const order = Array.from(a, (v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const r = new Array<number>(a.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}
