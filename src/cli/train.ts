// What every part of the main job does the same way: build the MLP on the runtime's backend, make
// an AdamW or an IVON from a grid setting, train with the shared schedule (warm-up + cosine,
// seeded minibatch order), and predict the way each optimizer is used (AdamW at its weights, IVON
// by Bayesian model averaging; IVON at its mean too where the table shows it).
import { AdamW, IVON, type Runtime } from '../index.js';
import { fit, type FitEpochInfo, type FitProgress } from '../nn/fit.js';
import { relu, tanh } from '../nn/layers.js';
import { mlp, type Network } from '../nn/network.js';
import { posteriorHealth, type PosteriorHealth } from '../nn/posterior-health.js';
import { predictAtMean, predictBma, type ClassPrediction } from '../nn/predict.js';
import { createModelOps } from '../nn/runtime-ops.js';
import type { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import type { AdamwSetting, IvonSetting, MainJobConfig } from './config.js';
import type { LabelledSet } from './digits.js';
import { featuresOf } from './digits.js';

export type Net = Network | GpuNetwork;
export type Trained = AdamW | IVON;

export interface JobContext {
  rt: Runtime;
  ops: ReturnType<typeof createModelOps>;
  config: MainJobConfig;
  onProgress: (phase: string, p: FitProgress) => void;
  /** Posterior warnings raised by fit, with the phase that raised them. */
  warnings: string[];
}

export function jobContext(rt: Runtime, config: MainJobConfig, onProgress: JobContext['onProgress'] = () => {}): JobContext {
  return { rt, ops: createModelOps(rt), config, onProgress, warnings: [] };
}

/** The main job's MLP (inputs → hidden widths → classes, with the configured activation). */
export function makeNet(ctx: JobContext, inputs: number, classes: number): Net {
  const activation = ctx.config.activation === 'tanh' ? tanh : relu;
  return mlp([inputs, ...ctx.config.hidden, classes], activation).bind(ctx.ops, Math.max(ctx.config.batchSize, 256));
}

export function newAdamW(ctx: JobContext, net: Net, s: AdamwSetting, seed: number): AdamW {
  return new AdamW(ctx.rt, { params: net.model.init(seed), shapes: net.model.shapes(), lr: s.lr, weightDecay: s.weightDecay });
}

/** IVON with ess = essFactor·rows and weightDecay = essTimesDelta / ess; `extra` adds options such as a prior mean. */
export function newIvon(ctx: JobContext, net: Net, s: IvonSetting, rows: number, seed: number, init?: Record<string, Float32Array>): IVON {
  const ess = s.essFactor * rows;
  return new IVON(ctx.rt, {
    params: init ?? net.model.init(seed),
    shapes: net.model.shapes(),
    lr: s.lr,
    ess,
    hessInit: s.hessInit,
    weightDecay: s.essTimesDelta / ess,
    beta2: s.beta2,
    seed,
  });
}

export interface TrainOutcome {
  epochs: number;
  /** IVON: the posterior's health at the end of training. */
  health?: PosteriorHealth;
}

/** Trains `opt` on `data` with the job's schedule; onEpochEnd may stop early. */
export async function train(
  ctx: JobContext, net: Net, opt: Trained, data: LabelledSet, seed: number, phase: string,
  onEpochEnd?: (info: FitEpochInfo) => void | 'stop' | Promise<void | 'stop'>, epochs = ctx.config.epochs,
): Promise<TrainOutcome> {
  const c = ctx.config;
  const stepsPerEpoch = Math.ceil(data.rows / c.batchSize);
  const lr = opt.groupHyper(0).lr;
  const result = await fit(net, opt, { x: data.x, targets: data.labels, rows: data.rows }, {
    loss: 'cross-entropy',
    epochs,
    batchSize: c.batchSize,
    lr,
    warmupSteps: Math.round(c.warmupFraction * epochs * stepsPerEpoch),
    seed,
    onProgress: (p) => ctx.onProgress(phase, p),
    onWarning: (message) => ctx.warnings.push(`${phase}: ${message}`),
    ...(onEpochEnd ? { onEpochEnd } : {}),
  });
  const outcome: TrainOutcome = { epochs: result.epochLosses.length };
  if (opt instanceof IVON) outcome.health = await posteriorHealth(opt);
  return outcome;
}

/** How each optimizer is used: AdamW at its weights, IVON by BMA over the job's sample count. */
export async function predict(ctx: JobContext, net: Net, opt: Trained, set: LabelledSet): Promise<ClassPrediction> {
  if (featuresOf(set) !== net.model.inFeatures) throw new Error(`predict: rows have ${featuresOf(set)} values, the model takes ${net.model.inFeatures}`);
  if (opt instanceof IVON) return predictBma(net, opt, set.x, set.rows, { samples: ctx.config.bmaSamples });
  return await predictAtMean(net, opt, set.x, set.rows);
}

export async function predictMean(net: Net, opt: Trained, set: LabelledSet): Promise<ClassPrediction> {
  return await predictAtMean(net, opt, set.x, set.rows);
}

/** Concatenates per-seed predictions (rows × classes) and labels: the pooled rows the intervals resample. */
export function pooled(parts: { logProbs: Float64Array; labels: Int32Array }[]): { logProbs: Float64Array; labels: Int32Array } {
  const total = parts.reduce((n, p) => n + p.labels.length, 0);
  const classes = parts.length ? parts[0].logProbs.length / parts[0].labels.length : 0;
  const logProbs = new Float64Array(total * classes);
  const labels = new Int32Array(total);
  let row = 0;
  for (const p of parts) {
    logProbs.set(p.logProbs, row * classes);
    labels.set(p.labels, row);
    row += p.labels.length;
  }
  return { logProbs, labels };
}

export function concat(arrays: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(Array.from(a), o);
    o += a.length;
  }
  return out;
}

export const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
