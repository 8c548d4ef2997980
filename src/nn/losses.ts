// Heads and losses: softmax cross-entropy, mean squared error and Gaussian negative
// log-likelihood (mean + softplus std). Each returns the minibatch-MEAN loss (what IVON's
// gradient is taken of, IVON.md §2) and, when given dOut, writes ∂loss/∂output there.
// Computed in float64 over the (small) output matrix; dOut may be a view of WASM memory.

export type LossKind = 'cross-entropy' | 'mse' | 'gaussian-nll';

/** Smallest predictive std of the Gaussian head: softplus(raw) + MIN_STD keeps log s finite. */
export const MIN_STD = 1e-4;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function checkShapes(fn: string, out: ArrayLike<number>, rows: number, cols: number, dOut?: { [i: number]: number; length: number }): void {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new Error(`${fn}: rows and cols must be positive integers, got ${rows}, ${cols}`);
  }
  if (out.length < rows * cols) throw new Error(`${fn}: output has ${out.length} values, rows·cols = ${rows * cols} needed`);
  if (dOut && dOut.length < rows * cols) throw new Error(`${fn}: dOut has ${dOut.length} values, rows·cols = ${rows * cols} needed`);
}

/** log softmax of one row of logits into dst (float64). */
export function logSoftmaxRow(logits: ArrayLike<number>, offset: number, cols: number, dst: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) max = Math.max(max, logits[offset + j]);
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += Math.exp(logits[offset + j] - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < cols; j++) dst[j] = logits[offset + j] - lse;
}

/** Mean over rows of −log softmax(logits)_label; dOut = (softmax − onehot) / rows. */
export function softmaxCrossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number, dOut?: { [i: number]: number; length: number }): number {
  checkShapes('softmaxCrossEntropy', logits, rows, classes, dOut);
  if (labels.length < rows) throw new Error(`softmaxCrossEntropy: ${labels.length} labels for ${rows} rows`);
  const logp = new Float64Array(classes);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`softmaxCrossEntropy: label ${y} at row ${i} is not an integer in 0..${classes - 1}`);
    const o = i * classes;
    logSoftmaxRow(logits, o, classes, logp);
    total -= logp[y];
    if (dOut) for (let j = 0; j < classes; j++) dOut[o + j] = (Math.exp(logp[j]) - (j === y ? 1 : 0)) / rows;
  }
  return total / rows;
}

/** Mean over rows and columns of (out − target)²; dOut = 2(out − target) / (rows·cols). */
export function meanSquaredError(out: ArrayLike<number>, target: ArrayLike<number>, rows: number, cols: number, dOut?: { [i: number]: number; length: number }): number {
  checkShapes('meanSquaredError', out, rows, cols, dOut);
  const n = rows * cols;
  if (target.length < n) throw new Error(`meanSquaredError: ${target.length} targets for ${rows}×${cols} outputs`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = out[i] - target[i];
    total += d * d;
    if (dOut) dOut[i] = (2 * d) / n;
  }
  return total / n;
}

/**
 * softplus(x) = log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|): exp never overflows, and log1p keeps
 * full relative precision where softplus is tiny (no cut-off branches, which cost ~1e-9 there).
 */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Gaussian NLL of a head with 2·d outputs per row: d means, then d raw scales with
 * std = softplus(raw) + MIN_STD. Loss = mean over rows of Σ_j [½log 2π + log s_j + (t_j − μ_j)²/(2s_j²)];
 * target is rows × d.
 */
export function gaussianNll(out: ArrayLike<number>, target: ArrayLike<number>, rows: number, cols: number, dOut?: { [i: number]: number; length: number }): number {
  checkShapes('gaussianNll', out, rows, cols, dOut);
  if (cols % 2 !== 0) throw new Error(`gaussianNll: the head needs 2·d outputs (d means, d raw stds), got ${cols}`);
  const d = cols / 2;
  if (target.length < rows * d) throw new Error(`gaussianNll: ${target.length} targets for ${rows} rows of dimension ${d}`);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) {
      const mu = out[i * cols + j];
      const raw = out[i * cols + d + j];
      const s = softplus(raw) + MIN_STD;
      const r = target[i * d + j] - mu;
      total += HALF_LOG_2PI + Math.log(s) + (r * r) / (2 * s * s);
      if (dOut) {
        dOut[i * cols + j] = -r / (s * s) / rows;
        dOut[i * cols + d + j] = ((1 / s - (r * r) / (s * s * s)) * sigmoid(raw)) / rows;
      }
    }
  }
  return total / rows;
}

/** Predictive mean and std of a Gaussian head's row-major output (d = cols / 2). */
export function gaussianHead(out: ArrayLike<number>, rows: number, cols: number): { mean: Float64Array; std: Float64Array } {
  const d = cols / 2;
  const mean = new Float64Array(rows * d);
  const std = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < d; j++) {
      mean[i * d + j] = out[i * cols + j];
      std[i * d + j] = softplus(out[i * cols + d + j]) + MIN_STD;
    }
  return { mean, std };
}

/** Dispatch by kind: targets are integer labels for cross-entropy, values otherwise. */
export function lossValue(kind: LossKind, out: ArrayLike<number>, target: ArrayLike<number>, rows: number, cols: number, dOut?: { [i: number]: number; length: number }): number {
  switch (kind) {
    case 'cross-entropy':
      return softmaxCrossEntropy(out, target, rows, cols, dOut);
    case 'mse':
      return meanSquaredError(out, target, rows, cols, dOut);
    case 'gaussian-nll':
      return gaussianNll(out, target, rows, cols, dOut);
    default:
      throw new Error(`loss must be 'cross-entropy', 'mse' or 'gaussian-nll', got ${JSON.stringify(kind)}`);
  }
}

/** Target values per row for each loss (cross-entropy: one label; gaussian-nll: cols / 2). */
export function targetWidth(kind: LossKind, cols: number): number {
  return kind === 'cross-entropy' ? 1 : kind === 'mse' ? cols : cols / 2;
}
