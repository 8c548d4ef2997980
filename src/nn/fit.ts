// The training loop: seeded minibatch shuffling, MC samples per step (IVON), a warm-up + cosine
// learning-rate schedule set through opt.setLr, and a progress callback. The model reads the
// sampled weights and writes its gradients straight into the optimizer's buffers.
import { lossValue, targetWidth, type LossKind } from './losses.js';
import type { Network } from './network.js';
import { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import { permutation, Rng } from './random.js';
import { posteriorHealth, type PosteriorHealth } from './posterior-health.js';
import type { IVON } from '../optim/ivon.js';
import { gradSinkOf, type TrainableOptimizer } from './trainable.js';

export interface TrainData {
  /** rows × inFeatures, row-major. */
  x: Float32Array;
  /** Labels (cross-entropy) or rows × targetWidth values. */
  targets: ArrayLike<number>;
  rows: number;
}

export interface FitProgress {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  /** Mean minibatch loss over the samples of this step. */
  loss: number;
  lr: number;
  /** IVON, last step of each epoch: mean h/h₀, median σ and any warning (see posteriorHealth). */
  posterior?: PosteriorHealth;
}

export interface FitOptions {
  loss: LossKind;
  epochs: number;
  batchSize: number;
  /** Peak learning rate, one for all groups or one per group. */
  lr: number | readonly number[];
  /** Linear warm-up from lr/warmupSteps to lr over this many steps (default 0). */
  warmupSteps?: number;
  /** The cosine decays to lr·minLrFactor (default 0). */
  minLrFactor?: number;
  /** Train samples per step (IVON only; default: the optimizer's mcSamples, else 1). */
  mcSamples?: number;
  /** Seed of the minibatch order. */
  seed?: number;
  onProgress?: (p: FitProgress) => void;
  /** Called after each epoch (awaited); returning 'stop' ends training there (early stopping). */
  onEpochEnd?: (info: FitEpochInfo) => void | 'stop' | Promise<void | 'stop'>;
  /** IVON: check the posterior at each epoch end (default true); a collapse or blow-up is warned once. */
  watchPosterior?: boolean;
  /** Where the posterior warning goes (default console.warn). */
  onWarning?: (message: string) => void;
}

export interface FitEpochInfo {
  /** 0-based index of the epoch that just finished. */
  epoch: number;
  epochs: number;
  /** Mean training loss of that epoch. */
  loss: number;
  steps: number;
  /** IVON with watchPosterior: the posterior's health at the end of the epoch. */
  posterior?: PosteriorHealth;
}

export interface FitResult {
  /** Mean training loss of each epoch run (fewer than `epochs` when onEpochEnd stopped it). */
  epochLosses: number[];
  steps: number;
}

/** lr at step t (0-based) of a warm-up + cosine schedule. */
export function scheduledLr(peak: number, t: number, totalSteps: number, warmupSteps: number, minLrFactor: number): number {
  if (t < warmupSteps) return (peak * (t + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (t - warmupSteps) / span);
  return peak * (minLrFactor + (1 - minLrFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`fit: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

export async function fit(net: Network | GpuNetwork, opt: TrainableOptimizer, data: TrainData, options: FitOptions): Promise<FitResult> {
  const epochs = positiveInteger('epochs', options.epochs);
  const batchSize = positiveInteger('batchSize', options.batchSize);
  if (batchSize > net.maxBatch) throw new Error(`fit: batchSize ${batchSize} exceeds the network's maxBatch ${net.maxBatch}; bind the model with a larger maxBatch`);
  const rows = positiveInteger('data.rows', data.rows);
  const inF = net.model.inFeatures;
  const cols = net.outFeatures;
  const tw = targetWidth(options.loss, cols);
  if (data.x.length < rows * inF) throw new Error(`fit: data.x has ${data.x.length} values, rows·inFeatures = ${rows * inF} needed`);
  if (data.targets.length < rows * tw) throw new Error(`fit: data.targets has ${data.targets.length} values, ${rows * tw} needed for '${options.loss}'`);
  const peaks = typeof options.lr === 'number' ? Array(opt.groupCount).fill(options.lr) : [...options.lr];
  if (peaks.length !== opt.groupCount || peaks.some((v) => !(v >= 0))) {
    throw new Error(`fit: lr must be a number ≥ 0 or one per group (${opt.groupCount}), got ${JSON.stringify(options.lr)}`);
  }
  if (options.onEpochEnd !== undefined && typeof options.onEpochEnd !== 'function') throw new Error('fit: onEpochEnd must be a function (info) => void | \'stop\'');
  const warmup = options.warmupSteps ?? 0;
  const minLrFactor = options.minLrFactor ?? 0;
  const defaultSamples = opt.kind === 'ivon' ? ((opt as { mcSamples?: number }).mcSamples ?? 1) : 1;
  const mc = positiveInteger('mcSamples', options.mcSamples ?? defaultSamples);
  if (mc > 1 && opt.kind !== 'ivon') throw new Error(`fit: mcSamples ${mc} needs IVON; ${opt.kind} takes one block per step`);

  const rng = new Rng(options.seed ?? 0);
  const stepsPerEpoch = Math.ceil(rows / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const xb = net.ops.alloc(batchSize * inF);
  const tb = new Float64Array(batchSize * tw);
  const epochLosses: number[] = [];
  if (options.watchPosterior !== undefined && typeof options.watchPosterior !== 'boolean') throw new Error(`fit: watchPosterior must be true or false, got ${String(options.watchPosterior)}`);
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new Error('fit: onWarning must be a function (message) => void');
  const watch = opt.kind === 'ivon' && options.watchPosterior !== false;
  let warned = false;
  let health: PosteriorHealth | undefined;
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = permutation(rows, rng);
    let epochLoss = 0;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const first = b * batchSize;
      const n = Math.min(batchSize, rows - first);
      const xv = xb.view();
      for (let i = 0; i < n; i++) {
        const r = order[first + i];
        xv.set(data.x.subarray(r * inF, (r + 1) * inF), i * inF);
        for (let j = 0; j < tw; j++) tb[i * tw + j] = data.targets[r * tw + j];
      }
      const lr = peaks.map((p) => scheduledLr(p, t, totalSteps, warmup, minLrFactor));
      lr.forEach((v, g) => opt.setLr(g, v));
      let stepLoss = 0;
      for (let s = 0; s < mc; s++) {
        stepLoss += await opt.sampledParams((ctx) => {
          // On the GPU the whole sample runs there; only the per-row losses come back.
          if (net instanceof GpuNetwork) return net.trainSample(ctx, opt, xb.view(), tb, n, options.loss);
          const theta = (name: string) => ctx.theta(name);
          const out = net.forward(theta, xb.view(), n);
          const loss = lossValue(options.loss, out, tb, n, cols, net.outputGrad());
          net.backward(theta, gradSinkOf(opt, ctx));
          return loss;
        }, { cpuViews: !(net instanceof GpuNetwork) }); // a GPU network binds the buffers: nothing to read back
      }
      await opt.step();
      stepLoss /= mc;
      epochLoss += (stepLoss * n) / rows;
      t++;
      const posterior = watch && b === stepsPerEpoch - 1 ? await posteriorHealth(opt as unknown as IVON) : undefined;
      if (posterior) health = posterior;
      if (posterior?.warning && !warned) {
        warned = true;
        (options.onWarning ?? console.warn)(`fit, epoch ${epoch + 1}: ${posterior.warning}`);
      }
      options.onProgress?.({ epoch, epochs, step: t, totalSteps, loss: stepLoss, lr: lr[0], ...(posterior ? { posterior } : {}) });
    }
    epochLosses.push(epochLoss);
    if ((await options.onEpochEnd?.({ epoch, epochs, loss: epochLoss, steps: t, ...(health ? { posterior: health } : {}) })) === 'stop') break;
  }
  return { epochLosses, steps: t };
}
