// Memory perturbation (Nickl, Xu, Tailor, Möllenhoff & Khan, NeurIPS 2023): what removing one
// training example would do, read off the posterior without retraining. Per example i and output
// k, with e the gradient of the example's loss w.r.t. the output, Λ its curvature (GGN) and v the
// prediction variance in the per-example scale: removing i moves the output by ≈ v·e (plain) or
// v·e / (1 − Λ·v) (exact for a GLM with a Gaussian posterior). sensitivity sums the resulting
// change of the prediction; leaveOneOut scores the example at its moved outputs. Each loss head's
// e, Λ and prediction link are derived in docs/POSTERIOR.md §2–3.
import { UsageError } from '../errors.js';
import type { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import { lossValue, MIN_STD, softplus, type LossKind } from '../nn/losses.js';
import type { Network } from '../nn/network.js';
import { IVON } from '../optim/ivon.js';
import type { PosteriorOptimizer } from './state.js';
import { outputMoments, type OutputMoments, type PredictionVarianceOptions } from './variance.js';

/** Training data the estimates are about (the toolkit's TrainData with a loss kind). */
export interface PerturbationData {
  x: Float32Array;
  /** Labels (cross-entropy) or rows × target width values, as fit() takes them. */
  targets: ArrayLike<number>;
  rows: number;
}

export interface PerturbationOptions extends PredictionVarianceOptions {
  /** The loss the model was trained with (default 'cross-entropy'). */
  loss?: LossKind;
  /**
   * N, the size of the training set the posterior was learned from (default data.rows). IVON's σ²
   * is rescaled by ess/N to the scale of one example (no change when ess = N, the usual setting).
   */
  trainingSize?: number;
}

export interface LeaveOneOutOptions extends PerturbationOptions {
  /** 'none' (default): f + v⊙e. 'glm': f + v⊙e / (1 − Λ⊙v), exact for a GLM. */
  correction?: 'none' | 'glm';
}

export interface LeaveOneOutResult {
  /** Mean over the rows of the estimated leave-one-out loss. */
  nll: number;
  /** The estimated leave-one-out loss of each row (the training loss at the perturbed outputs). */
  perExample: Float64Array;
}

const TINY = 1e-10;
/** 1 − Λv below this is clamped: the example alone decides its prediction and the estimate is unreliable. */
const MIN_GLM_DENOMINATOR = 1e-2;

const clampMagnitude = (e: number) => Math.sign(e) * Math.min(Math.max(Math.abs(e), TINY), 1 - TINY);

/** Per output of one row: e (loss gradient), Λ (its GGN), link' (∂prediction/∂output). */
interface RowTerms {
  e: Float64Array;
  lambda: Float64Array;
  link: Float64Array;
}

function checkTargets(fn: string, loss: LossKind, data: PerturbationData, cols: number): void {
  const tw = loss === 'cross-entropy' ? 1 : loss === 'mse' ? cols : cols / 2;
  if (loss === 'gaussian-nll' && cols % 2 !== 0) throw new UsageError(`${fn}: a gaussian-nll head has 2·d outputs, the network has ${cols}`);
  if (!data.targets || typeof data.targets.length !== 'number' || data.targets.length < data.rows * tw) {
    throw new UsageError(`${fn}: data.targets must hold ${data.rows * tw} values for '${loss}' (${tw} per row)`);
  }
  for (let i = 0; i < data.rows * tw; i++) {
    const t = data.targets[i];
    if (loss === 'cross-entropy' ? !(Number.isInteger(t) && t >= 0 && t < cols) : !Number.isFinite(t)) {
      throw new UsageError(`${fn}: target ${t} at index ${i} is not ${loss === 'cross-entropy' ? `a label in 0..${cols - 1}` : 'finite'}`);
    }
  }
}

/** e, Λ and the prediction link of row i's outputs f for each loss head (docs/POSTERIOR.md §2). */
function rowTerms(loss: LossKind, f: Float32Array, o: number, cols: number, targets: ArrayLike<number>, i: number, t: RowTerms): void {
  if (loss === 'cross-entropy') {
    let max = -Infinity;
    for (let k = 0; k < cols; k++) max = Math.max(max, f[o + k]);
    let sum = 0;
    for (let k = 0; k < cols; k++) sum += Math.exp(f[o + k] - max);
    for (let k = 0; k < cols; k++) {
      const p = Math.exp(f[o + k] - max) / sum;
      t.e[k] = clampMagnitude(p - (k === targets[i] ? 1 : 0));
      t.lambda[k] = Math.min(Math.max(p - p * p, TINY), 1 - TINY);
      t.link[k] = t.lambda[k]; // ∂p_k/∂f_k
    }
  } else if (loss === 'mse') {
    // ℓ_i = (1/K) Σ_k (f_k − t_k)²: e = 2(f − t)/K, Λ = 2/K; the prediction is f itself.
    for (let k = 0; k < cols; k++) {
      t.e[k] = (2 * (f[o + k] - targets[i * cols + k])) / cols;
      t.lambda[k] = 2 / cols;
      t.link[k] = 1;
    }
  } else {
    // ℓ_i = Σ_j log s_j + (t_j − μ_j)²/(2s_j²), s = softplus(raw) + MIN_STD; Λ the Fisher information.
    const d = cols / 2;
    for (let j = 0; j < d; j++) {
      const mu = f[o + j];
      const raw = f[o + d + j];
      const s = softplus(raw) + MIN_STD;
      const sig = 1 / (1 + Math.exp(-raw));
      const r = targets[i * d + j] - mu;
      t.e[j] = -r / (s * s);
      t.lambda[j] = 1 / (s * s);
      t.link[j] = 1;
      t.e[d + j] = (1 / s - (r * r) / (s * s * s)) * sig;
      t.lambda[d + j] = (2 * sig * sig) / (s * s);
      t.link[d + j] = sig; // ∂s/∂raw
    }
  }
}

function parseOptions(fn: string, opt: PosteriorOptimizer, data: PerturbationData, options: PerturbationOptions): { loss: LossKind; scale?: (name: string) => number } {
  if (options === null || typeof options !== 'object') throw new UsageError(`${fn}: options must be an object`);
  const loss = options.loss ?? 'cross-entropy';
  if (loss !== 'cross-entropy' && loss !== 'mse' && loss !== 'gaussian-nll') throw new UsageError(`${fn}: loss must be 'cross-entropy', 'mse' or 'gaussian-nll', got ${JSON.stringify(loss)}`);
  if (!data || typeof data !== 'object') throw new UsageError(`${fn}: data must be { x, targets, rows }`);
  const n = options.trainingSize ?? data.rows;
  if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`${fn}: trainingSize must be a positive integer (the number of training examples), got ${String(n)}`);
  if (!(opt instanceof IVON)) {
    if (options.trainingSize !== undefined) throw new UsageError(`${fn}: trainingSize rescales IVON's σ²; for AdamW the adamw.dataSize option is N`);
    return { loss };
  }
  return { loss, scale: (name) => opt.groupHyper(opt.layout.params.get(name)!.group).ess / n };
}

async function momentsFor(fn: string, net: Network | GpuNetwork, opt: PosteriorOptimizer, data: PerturbationData, options: PerturbationOptions): Promise<{ m: OutputMoments; loss: LossKind }> {
  const { loss, scale } = parseOptions(fn, opt, data, options);
  // Targets are checked before any work (and before MC draws move the prediction counter).
  if (net && typeof net === 'object' && 'model' in net) checkTargets(fn, loss, data, net.model.outFeatures);
  const { loss: _loss, trainingSize: _n, correction: _c, ...varianceOptions } = options as LeaveOneOutOptions;
  const m = await outputMoments(fn, net, opt, data?.x, data?.rows, varianceOptions, scale);
  return { m, loss };
}

/**
 * Memory-perturbation sensitivity of each training example: s_i = Σ_k |link'_ik · e_ik · v_ik|,
 * the estimated change of example i's prediction if it were removed (cross-entropy: link' = Λ =
 * p(1 − p), so s_i = Σ_k |e_ik Λ_ik v_ik|). Larger = more influential.
 */
export async function sensitivity(net: Network | GpuNetwork, opt: PosteriorOptimizer, data: PerturbationData, options: PerturbationOptions = {}): Promise<Float32Array> {
  const { m, loss } = await momentsFor('sensitivity', net, opt, data, options);
  const { rows, cols, outputs, variance } = m;
  const terms: RowTerms = { e: new Float64Array(cols), lambda: new Float64Array(cols), link: new Float64Array(cols) };
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    rowTerms(loss, outputs, i * cols, cols, data.targets, i, terms);
    let s = 0;
    for (let k = 0; k < cols; k++) s += Math.abs(terms.link[k] * terms.e[k] * variance[i * cols + k]);
    out[i] = s;
  }
  return out;
}

function parseCorrection(fn: string, c: unknown): 'none' | 'glm' {
  const correction = c ?? 'none';
  if (correction !== 'none' && correction !== 'glm') throw new UsageError(`${fn}: correction must be 'none' or 'glm', got ${JSON.stringify(c)}`);
  return correction;
}

/**
 * Leave-one-out loss without a validation set: each example's loss at its perturbed outputs
 * f̃ = f + v⊙e (or f + v⊙e / (1 − Λ⊙v) with correction 'glm'), averaged over the rows.
 */
export async function leaveOneOut(net: Network | GpuNetwork, opt: PosteriorOptimizer, data: PerturbationData, options: LeaveOneOutOptions = {}): Promise<LeaveOneOutResult> {
  const correction = parseCorrection('leaveOneOut', options?.correction);
  const { m, loss } = await momentsFor('leaveOneOut', net, opt, data, options);
  const { rows, cols, outputs, variance } = m;
  const terms: RowTerms = { e: new Float64Array(cols), lambda: new Float64Array(cols), link: new Float64Array(cols) };
  const tw = loss === 'cross-entropy' ? 1 : loss === 'mse' ? cols : cols / 2;
  const moved = new Float64Array(cols);
  const target = new Float64Array(tw);
  const perExample = new Float64Array(rows);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    rowTerms(loss, outputs, i * cols, cols, data.targets, i, terms);
    for (let k = 0; k < cols; k++) {
      const v = variance[i * cols + k];
      const shift = v * terms.e[k];
      moved[k] = outputs[i * cols + k] + (correction === 'glm' ? shift / Math.max(1 - terms.lambda[k] * v, MIN_GLM_DENOMINATOR) : shift);
    }
    for (let j = 0; j < tw; j++) target[j] = data.targets[i * tw + j];
    perExample[i] = lossValue(loss, moved, target, 1, cols);
    total += perExample[i];
  }
  return { nll: total / rows, perExample };
}
