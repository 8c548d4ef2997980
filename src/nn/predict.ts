// Prediction with uncertainty (IVON.md §3): Bayesian model averaging over S posterior samples in
// log space (log p̄ = logsumexp_s log softmax f(x; θ_s) − log S), prediction at the mean, and the
// per-example "I don't know" signals: predictive entropy and mutual information (entropy of the
// mean prediction minus the mean entropy of the samples — disagreement between samples).
import { predictiveEntropy } from '../metrics/classification.js';
import { gaussianHead, logSoftmaxRow } from './losses.js';
import type { Network, TensorSource } from './network.js';
import type { TrainableOptimizer } from './trainable.js';
import { GpuNetwork, type GpuTensorSource } from '../../gpu/nn/gpu-network.js';
import { tensorOf } from '../../gpu/nn/gpu-ops.js';

export interface ClassPrediction {
  rows: number;
  classes: number;
  /** log p̄, rows × classes. */
  logProbs: Float64Array;
  /** p̄, rows × classes. */
  probs: Float64Array;
  /** Predictive entropy of p̄ per row (nats). */
  entropy: Float64Array;
  /** Entropy of p̄ minus the mean entropy of the samples (0 at the mean). */
  mutualInformation: Float64Array;
  samples: number;
}

export interface PredictOptions {
  /** Posterior samples for BMA (16–64; default 32). */
  samples?: number;
}

function checkInput(fn: string, net: Network | GpuNetwork, x: Float32Array, rows: number): void {
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`${fn}: rows must be a positive integer, got ${rows}`);
  if (!(x instanceof Float32Array) || x.length < rows * net.model.inFeatures) {
    throw new Error(`${fn}: x must be a Float32Array with rows·inFeatures = ${rows * net.model.inFeatures} values`);
  }
}

/** Runs the network over all rows in chunks of maxBatch, calling visit(outputChunk, firstRow, n). */
function forEachChunk(net: Network, weights: TensorSource, x: Float32Array, rows: number, visit: (out: Float32Array, first: number, n: number) => void): void {
  const inF = net.model.inFeatures;
  for (let first = 0; first < rows; first += net.maxBatch) {
    const n = Math.min(net.maxBatch, rows - first);
    visit(net.forward(weights, x.subarray(first * inF, (first + n) * inF), n), first, n);
  }
}

/** GPU networks: the same chunks, each a forward on the GPU and a readback of its output. */
async function forEachGpuChunk(net: GpuNetwork, weights: GpuTensorSource, x: Float32Array, rows: number, visit: (out: Float32Array, first: number, n: number) => void): Promise<void> {
  const inF = net.model.inFeatures;
  for (let first = 0; first < rows; first += net.maxBatch) {
    const n = Math.min(net.maxBatch, rows - first);
    visit(await net.forwardRead(weights, x.subarray(first * inF, (first + n) * inF), n), first, n);
  }
}

/** The optimizer's mean weights on the GPU (read back and uploaded: opt.param has no GPU form). */
function gpuMeanWeights(fn: string, net: GpuNetwork, opt: TrainableOptimizer): Promise<GpuTensorSource> {
  const reader = opt as Partial<{ readTensors(name: string): Promise<{ mean: Float32Array }> }>;
  if (typeof reader.readTensors !== 'function') throw new Error(`${fn}: on the GPU the optimizer must offer readTensors(name) (IVON, AdamW and SGD do)`);
  return net.uploadWeights(async (name) => (await reader.readTensors!(name)).mean);
}

/** Classification at the mean weights (opt.param): fast, worse calibrated. A Promise for a GpuNetwork. */
export function predictAtMean(net: Network, opt: TrainableOptimizer, x: Float32Array, rows: number): ClassPrediction;
export function predictAtMean(net: GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number): Promise<ClassPrediction>;
export function predictAtMean(net: Network | GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number): ClassPrediction | Promise<ClassPrediction>;
export function predictAtMean(net: Network | GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number): ClassPrediction | Promise<ClassPrediction> {
  checkInput('predictAtMean', net, x, rows);
  const classes = net.outFeatures;
  const logProbs = new Float64Array(rows * classes);
  const row = new Float64Array(classes);
  const visit = (out: Float32Array, first: number, n: number) => {
    for (let i = 0; i < n; i++) {
      logSoftmaxRow(out, i * classes, classes, row);
      logProbs.set(row, (first + i) * classes);
    }
  };
  const finish = (): ClassPrediction => {
    const probs = logProbs.map(Math.exp);
    return { rows, classes, logProbs, probs, entropy: predictiveEntropy(probs, classes), mutualInformation: new Float64Array(rows), samples: 1 };
  };
  if (net instanceof GpuNetwork) {
    return gpuMeanWeights('predictAtMean', net, opt).then(async (weights) => {
      await forEachGpuChunk(net, weights, x, rows, visit);
      return finish();
    });
  }
  forEachChunk(net, (name) => opt.param(name), x, rows, visit);
  return finish();
}

/** Bayesian model averaging over `samples` draws of opt.sampledParams(…, { train: false }). */
export async function predictBma(net: Network | GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number, options: PredictOptions = {}): Promise<ClassPrediction> {
  checkInput('predictBma', net, x, rows);
  const samples = options.samples ?? 32;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`predictBma: samples must be a positive integer (16–64 is typical), got ${samples}`);
  const classes = net.outFeatures;
  // Streaming logsumexp over samples per (row, class): running max and Σ exp(l − max).
  const runMax = new Float64Array(rows * classes).fill(-Infinity);
  const runSum = new Float64Array(rows * classes);
  const meanSampleEntropy = new Float64Array(rows);
  const logp = new Float64Array(classes);
  for (let s = 0; s < samples; s++) {
    await opt.sampledParams(
      (ctx) => {
        const visit = (out: Float32Array, first: number, n: number) => {
          for (let i = 0; i < n; i++) {
            logSoftmaxRow(out, i * classes, classes, logp);
            const r = first + i;
            let h = 0;
            for (let k = 0; k < classes; k++) {
              const l = logp[k];
              h -= Math.exp(l) * l;
              const o = r * classes + k;
              if (l > runMax[o]) {
                runSum[o] = runSum[o] * Math.exp(runMax[o] - l) + 1;
                runMax[o] = l;
              } else {
                runSum[o] += Math.exp(l - runMax[o]);
              }
            }
            meanSampleEntropy[r] += (h - meanSampleEntropy[r]) / (s + 1);
          }
        };
        if (net instanceof GpuNetwork) return forEachGpuChunk(net, (name) => tensorOf(ctx.thetaBinding(name)), x, rows, visit);
        forEachChunk(net, (name) => ctx.theta(name), x, rows, visit);
      },
      { train: false, cpuViews: !(net instanceof GpuNetwork) },
    );
  }
  const logS = Math.log(samples);
  const logProbs = new Float64Array(rows * classes);
  for (let o = 0; o < logProbs.length; o++) logProbs[o] = runMax[o] + Math.log(runSum[o]) - logS;
  const probs = logProbs.map(Math.exp);
  const entropy = predictiveEntropy(probs, classes);
  const mutualInformation = entropy.map((h, i) => Math.max(0, h - meanSampleEntropy[i]));
  return { rows, classes, logProbs, probs, entropy, mutualInformation, samples };
}

export interface GaussianPrediction {
  rows: number;
  /** Predictive mean per row and target dimension. */
  mean: Float64Array;
  /** Predictive std (of the mixture for BMA: aleatoric and epistemic together). */
  std: Float64Array;
  /** Std of the sampled means alone (0 at the mean). */
  epistemicStd: Float64Array;
}

/** Gaussian-head regression at the mean weights. */
export function predictGaussianAtMean(net: Network, opt: TrainableOptimizer, x: Float32Array, rows: number): GaussianPrediction;
export function predictGaussianAtMean(net: GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number): Promise<GaussianPrediction>;
export function predictGaussianAtMean(net: Network | GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number): GaussianPrediction | Promise<GaussianPrediction>;
export function predictGaussianAtMean(net: Network | GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number): GaussianPrediction | Promise<GaussianPrediction> {
  checkInput('predictGaussianAtMean', net, x, rows);
  const cols = net.outFeatures;
  const d = cols / 2;
  const mean = new Float64Array(rows * d);
  const std = new Float64Array(rows * d);
  const visit = (out: Float32Array, first: number, n: number) => {
    const head = gaussianHead(out, n, cols);
    mean.set(head.mean, first * d);
    std.set(head.std, first * d);
  };
  const result = (): GaussianPrediction => ({ rows, mean, std, epistemicStd: new Float64Array(rows * d) });
  if (net instanceof GpuNetwork) {
    return gpuMeanWeights('predictGaussianAtMean', net, opt).then(async (weights) => {
      await forEachGpuChunk(net, weights, x, rows, visit);
      return result();
    });
  }
  forEachChunk(net, (name) => opt.param(name), x, rows, visit);
  return result();
}

/** Gaussian-head regression by BMA: moments of the mixture of the S sampled Gaussians. */
export async function predictGaussianBma(net: Network | GpuNetwork, opt: TrainableOptimizer, x: Float32Array, rows: number, options: PredictOptions = {}): Promise<GaussianPrediction> {
  checkInput('predictGaussianBma', net, x, rows);
  const samples = options.samples ?? 32;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`predictGaussianBma: samples must be a positive integer, got ${samples}`);
  const cols = net.outFeatures;
  if (cols % 2 !== 0) throw new Error(`predictGaussianBma: a Gaussian head has 2·d outputs, the network has ${cols}`);
  const d = cols / 2;
  const m1 = new Float64Array(rows * d); // E[μ]
  const m2 = new Float64Array(rows * d); // E[μ²]
  const v = new Float64Array(rows * d); // E[s²]
  for (let s = 0; s < samples; s++) {
    await opt.sampledParams(
      (ctx) => {
        const visit = (out: Float32Array, first: number, n: number) => {
          const head = gaussianHead(out, n, cols);
          for (let j = 0; j < n * d; j++) {
            const o = first * d + j;
            m1[o] += head.mean[j] / samples;
            m2[o] += (head.mean[j] * head.mean[j]) / samples;
            v[o] += (head.std[j] * head.std[j]) / samples;
          }
        };
        if (net instanceof GpuNetwork) return forEachGpuChunk(net, (name) => tensorOf(ctx.thetaBinding(name)), x, rows, visit);
        forEachChunk(net, (name) => ctx.theta(name), x, rows, visit);
      },
      { train: false, cpuViews: !(net instanceof GpuNetwork) },
    );
  }
  const epistemicVar = m2.map((x2, o) => Math.max(0, x2 - m1[o] * m1[o]));
  return {
    rows,
    mean: m1,
    std: epistemicVar.map((e, o) => Math.sqrt(e + v[o])),
    epistemicStd: epistemicVar.map(Math.sqrt),
  };
}
