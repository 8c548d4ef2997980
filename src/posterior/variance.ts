// predictionVariance: how uncertain each output of the model is under the posterior, per example.
// 'linearised' (default): v_ik = Σ_j J_ikj² σ_j² at the posterior mean, computed layer by layer
// without per-example Jacobians (linearised-cpu.ts / linearised-gpu.ts). 'monte-carlo': the
// variance of the outputs over S posterior draws (any model). docs/POSTERIOR.md §1.
import { UsageError } from '../errors.js';
import { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import { tensorOf } from '../../gpu/nn/gpu-ops.js';
import { IVON } from '../optim/ivon.js';
import type { Network } from '../nn/network.js';
import { cpuChunkRows, linearisedChunk } from './linearised-cpu.js';
import { gpuChunkRows, linearisedChunkGpu, uploadPosterior } from './linearised-gpu.js';
import { variancesOf, type PosteriorOptimizer, type VarianceSourceOptions } from './state.js';

export interface PredictionVarianceOptions extends VarianceSourceOptions {
  /** 'linearised' (default) or 'monte-carlo'. */
  method?: 'linearised' | 'monte-carlo';
  /** Posterior draws for 'monte-carlo' (≥ 2; default 64). */
  samples?: number;
}

/** What the estimates of sensitivity.ts need: outputs at the mean and their variance. */
export interface OutputMoments {
  rows: number;
  cols: number;
  /** f at the posterior mean, rows × cols. */
  outputs: Float32Array;
  /** v, rows × cols. */
  variance: Float32Array;
}

/** Checks x (finite, long enough) and that the optimizer holds exactly the network's parameters. */
export function checkModelInput(fn: string, net: Network | GpuNetwork, opt: PosteriorOptimizer, x: unknown, rows: unknown): void {
  if (!net || typeof net !== 'object' || !('model' in net) || !('ops' in net)) {
    throw new UsageError(`${fn}: net must be a bound model (model.bind(ops, maxBatch)), got ${String(net)}`);
  }
  if (!(typeof rows === 'number' && Number.isInteger(rows) && rows >= 1)) throw new UsageError(`${fn}: rows must be a positive integer, got ${String(rows)}`);
  const need = rows * net.model.inFeatures;
  if (!(x instanceof Float32Array) || x.length < need) throw new UsageError(`${fn}: x must be a Float32Array of at least rows·inFeatures = ${need} values`);
  for (let i = 0; i < need; i++) {
    if (!Number.isFinite(x[i])) throw new UsageError(`${fn}: x has a non-finite value ${x[i]} at index ${i} (row ${Math.floor(i / net.model.inFeatures)}); clean the input first`);
  }
  if (!opt || typeof opt !== 'object' || !('layout' in opt)) throw new UsageError(`${fn}: opt must be the model's optimizer (IVON, or AdamW with the adamw option)`);
  const shapes = net.model.shapes();
  for (const [name, shape] of Object.entries(shapes)) {
    const slot = opt.layout.params.get(name);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!slot) throw new UsageError(`${fn}: the optimizer has no parameter '${name}' of the model; pass the optimizer built from this model's init()`);
    if (slot.count !== count) throw new UsageError(`${fn}: parameter '${name}' has ${slot.count} elements in the optimizer but ${count} in the model`);
  }
}

function checkOptions(fn: string, options: PredictionVarianceOptions): { method: 'linearised' | 'monte-carlo'; samples: number } {
  if (options === null || typeof options !== 'object') throw new UsageError(`${fn}: options must be an object`);
  const method = options.method ?? 'linearised';
  if (method !== 'linearised' && method !== 'monte-carlo') throw new UsageError(`${fn}: method must be 'linearised' or 'monte-carlo', got ${JSON.stringify(method)}`);
  const samples = options.samples ?? 64;
  if (!(Number.isInteger(samples) && samples >= 2)) throw new UsageError(`${fn}: samples must be an integer ≥ 2 (a variance needs two draws), got ${String(samples)}`);
  if (options.samples !== undefined && method !== 'monte-carlo') throw new UsageError(`${fn}: samples is for method 'monte-carlo'; the linearised variance draws none`);
  return { method, samples };
}

async function meanWeights(opt: PosteriorOptimizer, names: string[]): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const name of names) out[name] = (await opt.readTensors(name)).mean;
  return out;
}

/** Scales σ² per parameter (sensitivity: ess_g / N turns IVON's σ² into the per-example scale). */
export type VarianceScale = (name: string) => number;

const gpuCalls = new WeakMap<GpuNetwork, Promise<void>>();

async function linearisedOnGpu(net: GpuNetwork, opt: PosteriorOptimizer, names: string[], sigma2: Record<string, Float32Array>, x: Float32Array, rows: number, outputs: Float32Array, variance: Float32Array): Promise<void> {
  const K = net.model.outFeatures;
  const inF = net.model.inFeatures;
  uploadPosterior(net, await meanWeights(opt, names), sigma2);
  const chunk = gpuChunkRows(net);
  for (let first = 0; first < rows; first += chunk) {
    const n = Math.min(chunk, rows - first);
    const r = await linearisedChunkGpu(net, x.subarray(first * inF), n);
    outputs.set(r.out, first * K);
    variance.set(r.variance, first * K);
  }
}

/** Outputs at the mean and the linearised variance of every row. */
export async function linearisedMoments(fn: string, net: Network | GpuNetwork, opt: PosteriorOptimizer, x: Float32Array, rows: number, source: VarianceSourceOptions, scale?: VarianceScale): Promise<OutputMoments> {
  const sigma2 = await variancesOf(fn, opt, source);
  if (scale) for (const name of Object.keys(sigma2)) sigma2[name] = sigma2[name].map((v) => v * scale(name));
  const K = net.model.outFeatures;
  const inF = net.model.inFeatures;
  const outputs = new Float32Array(rows * K);
  const variance = new Float32Array(rows * K);
  const names = Object.keys(net.model.shapes());
  if (net instanceof GpuNetwork) {
    // The workspace is the network's: one call at a time (each waits for the previous one).
    const previous = gpuCalls.get(net) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    gpuCalls.set(net, previous.then(() => mine));
    await previous;
    try {
      await linearisedOnGpu(net, opt, names, sigma2, x, rows, outputs, variance);
    } finally {
      release();
    }
  } else {
    const chunk = cpuChunkRows(net);
    const out = new Float32Array(chunk * K);
    const v = new Float64Array(chunk * K);
    await opt.currentBackend.flush();
    for (let first = 0; first < rows; first += chunk) {
      const n = Math.min(chunk, rows - first);
      v.fill(0);
      linearisedChunk(net, (name) => opt.param(name), sigma2, x.subarray(first * inF), n, out, v);
      outputs.set(out.subarray(0, n * K), first * K);
      for (let j = 0; j < n * K; j++) variance[first * K + j] = v[j];
    }
  }
  return { rows, cols: K, outputs, variance };
}

/** Variance of the outputs over `samples` posterior draws (Welford, divisor S − 1), and the outputs at the mean. */
async function monteCarloMoments(fn: string, net: Network | GpuNetwork, opt: PosteriorOptimizer, x: Float32Array, rows: number, samples: number): Promise<OutputMoments> {
  if (!(opt instanceof IVON)) throw new UsageError(`${fn}: method 'monte-carlo' draws from an IVON posterior; ${opt.kind} has none — use the linearised method with the adamw option`);
  const K = net.model.outFeatures;
  const inF = net.model.inFeatures;
  const mean = new Float64Array(rows * K);
  const m2 = new Float64Array(rows * K);
  const visit = (s: number) => (out: Float32Array, first: number, n: number) => {
    for (let j = 0; j < n * K; j++) {
      const o = first * K + j;
      const d = out[j] - mean[o];
      mean[o] += d / (s + 1);
      m2[o] += d * (out[j] - mean[o]);
    }
  };
  for (let s = 0; s < samples; s++) {
    await opt.sampledParams(
      async (ctx) => {
        for (let first = 0; first < rows; first += net.maxBatch) {
          const n = Math.min(net.maxBatch, rows - first);
          const xs = x.subarray(first * inF, (first + n) * inF);
          const out = net instanceof GpuNetwork ? await net.forwardRead((name) => tensorOf(ctx.thetaBinding(name)), xs, n) : net.forward((name) => ctx.theta(name), xs, n);
          visit(s)(out, first, n);
        }
      },
      { train: false },
    );
  }
  const variance = Float32Array.from(m2, (v) => v / (samples - 1));
  const outputs = new Float32Array(rows * K);
  const weights = await meanWeights(opt, Object.keys(net.model.shapes()));
  for (let first = 0; first < rows; first += net.maxBatch) {
    const n = Math.min(net.maxBatch, rows - first);
    const xs = x.subarray(first * inF, (first + n) * inF);
    if (net instanceof GpuNetwork) outputs.set(await net.forwardRead(await net.uploadWeights(async (name) => weights[name]), xs, n), first * K);
    else outputs.set(net.forward((name) => opt.param(name), xs, n), first * K);
  }
  return { rows, cols: K, outputs, variance };
}

/** Validated moments by either method (the shared front of predictionVariance, sensitivity, leaveOneOut). */
export async function outputMoments(fn: string, net: Network | GpuNetwork, opt: PosteriorOptimizer, x: Float32Array, rows: number, options: PredictionVarianceOptions, scale?: VarianceScale): Promise<OutputMoments> {
  checkModelInput(fn, net, opt, x, rows);
  const { method, samples } = checkOptions(fn, options);
  if (method === 'monte-carlo') {
    const m = await monteCarloMoments(fn, net, opt, x, rows, samples);
    if (scale) {
      // Every parameter of one group shares the scale; MC variances scale with σ² only when all do.
      const factors = new Set(Object.keys(net.model.shapes()).map(scale));
      if (factors.size !== 1) throw new UsageError(`${fn}: method 'monte-carlo' cannot rescale groups with different ess separately; use the linearised method`);
      const f = [...factors][0];
      for (let j = 0; j < m.variance.length; j++) m.variance[j] *= f;
    }
    return m;
  }
  return linearisedMoments(fn, net, opt, x, rows, options, scale);
}

/**
 * The predictive variance of each output (rows × K) under the optimizer's posterior: linearised
 * at the mean (default) or Monte-Carlo over `samples` draws. AdamW models need { adamw: { dataSize, priorPrecision } }.
 */
export async function predictionVariance(net: Network | GpuNetwork, opt: PosteriorOptimizer, x: Float32Array, rows: number, options: PredictionVarianceOptions = {}): Promise<Float32Array> {
  return (await outputMoments('predictionVariance', net, opt, x, rows, options)).variance;
}
