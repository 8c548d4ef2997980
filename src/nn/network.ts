// Sequential models: a chain of layers (Sequential) and its forward/backward pass bound to a
// compute implementation with preallocated activations (Network). Weights are read from, and
// gradients written to, whatever buffers the caller hands in per call — in training those are
// the optimizer's own views (ctx.theta / ctx.grad), so nothing is copied per step.
import { initParams, Linear, type Layer, Activation } from './layers.js';
import type { Buf, NnOps } from './ops.js';
import { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import type { GpuNnOps } from '../../gpu/nn/gpu-ops.js';

/** Where weights (or gradients) are read from / written to, by parameter name. */
export type TensorSource = (name: string) => Float32Array;
/** Gradient destinations; return undefined to skip a parameter (frozen). */
export type GradSink = (name: string) => Float32Array | undefined;

export class Sequential {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The width of each layer's output (an activation keeps its input's width). */
  readonly outputWidths: readonly number[];
  /** The widest activation, input included: the size of a row of a gradient workspace. */
  readonly widestActivation: number;

  constructor(readonly layers: readonly Layer[]) {
    if (!Array.isArray(layers) || layers.length === 0) throw new Error('Sequential: give at least one layer');
    let width: number | undefined;
    const names = new Set<string>();
    for (const [i, layer] of layers.entries()) {
      if (!(layer instanceof Linear) && !(layer instanceof Activation)) throw new Error(`Sequential: layer ${i} is not a Linear or an Activation`);
      if (layer.type !== 'linear') continue;
      if (width !== undefined && layer.inFeatures !== width) {
        throw new Error(`Sequential: layer ${i} ('${layer.name}') takes ${layer.inFeatures} features but the previous layer gives ${width}`);
      }
      if (names.has(layer.name)) throw new Error(`Sequential: two layers are named '${layer.name}'; names must be unique`);
      names.add(layer.name);
      width = layer.outFeatures;
    }
    const linears = layers.filter((l): l is Linear => l.type === 'linear');
    if (linears.length === 0) throw new Error('Sequential: needs at least one Linear layer');
    this.inFeatures = linears[0].inFeatures;
    this.outFeatures = linears[linears.length - 1].outFeatures;
    let out = this.inFeatures;
    this.outputWidths = layers.map((layer) => (out = layer.type === 'linear' ? layer.outFeatures : out));
    this.widestActivation = Math.max(this.inFeatures, ...this.outputWidths);
  }

  /** Parameter shapes by name (the optimizer's `shapes` option). */
  shapes(): Record<string, number[]> {
    const shapes: Record<string, number[]> = {};
    for (const layer of this.layers) {
      if (layer.type !== 'linear') continue;
      shapes[layer.weightName] = [layer.inFeatures, layer.outFeatures];
      if (layer.bias) shapes[layer.biasName] = [layer.outFeatures];
    }
    return shapes;
  }

  /** Seeded initial parameters (the optimizer's `params` option). */
  init(seed: number): Record<string, Float32Array> {
    return initParams(this.layers, seed);
  }

  /**
   * Binds the model to a compute implementation with room for batches of up to maxBatch rows.
   * GPU ops (createNnOps on a webgpu runtime) give a GpuNetwork, whose activations stay on the GPU.
   */
  bind(ops: NnOps, maxBatch: number): Network;
  bind(ops: GpuNnOps, maxBatch: number): GpuNetwork;
  bind(ops: NnOps | GpuNnOps, maxBatch: number): Network | GpuNetwork;
  bind(ops: NnOps | GpuNnOps, maxBatch: number): Network | GpuNetwork {
    return ops.kind === 'webgpu' ? new GpuNetwork(this, ops, maxBatch) : new Network(this, ops, maxBatch);
  }
}

/** A multilayer perceptron: Linear layers of the given widths with `activation` between them. */
export function mlp(widths: readonly number[], activation: () => Layer, prefix = 'fc'): Sequential {
  if (widths.length < 2) throw new Error(`mlp: give at least input and output widths, got [${widths.join(', ')}]`);
  const layers: Layer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    if (i > 0) layers.push(activation());
    layers.push(new Linear(`${prefix}${i + 1}`, widths[i], widths[i + 1]));
  }
  return new Sequential(layers);
}

export class Network {
  private readonly input: Buf;
  /** outputs[i]: the output of layer i (rows × width). */
  private readonly outputs: Buf[];
  private readonly gradA: Buf;
  private readonly gradB: Buf;
  private rows = 0;
  private inputIsExternal: Float32Array | undefined;

  constructor(
    readonly model: Sequential,
    readonly ops: NnOps,
    readonly maxBatch: number,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`Network: maxBatch must be a positive integer, got ${maxBatch}`);
    this.input = ops.alloc(maxBatch * model.inFeatures);
    this.outputs = model.outputWidths.map((w) => ops.alloc(maxBatch * w));
    this.gradA = ops.alloc(maxBatch * model.widestActivation);
    this.gradB = ops.alloc(maxBatch * model.widestActivation);
  }

  get outFeatures(): number {
    return this.model.outFeatures;
  }

  /**
   * Runs the model on `rows` rows of x (rows × inFeatures, row-major) with the given weights.
   * Returns a view of the output (rows × outFeatures), valid until the next forward.
   */
  forward(weights: TensorSource, x: Float32Array, rows: number): Float32Array {
    const inF = this.model.inFeatures;
    if (!Number.isInteger(rows) || rows < 1 || rows > this.maxBatch) {
      throw new Error(`Network.forward: rows must be an integer in 1..${this.maxBatch} (maxBatch of bind()), got ${rows}`);
    }
    if (!(x instanceof Float32Array) || x.length < rows * inF) {
      throw new Error(`Network.forward: x must be a Float32Array of at least rows·inFeatures = ${rows * inF} values`);
    }
    this.rows = rows;
    const ops = this.ops;
    let input: Float32Array;
    if (ops.accepts(x)) {
      input = x;
      this.inputIsExternal = x;
    } else {
      input = this.input.view();
      input.set(x.subarray(0, rows * inF));
      this.inputIsExternal = undefined;
    }
    let width = inF;
    this.model.layers.forEach((layer, i) => {
      const out = this.outputs[i].view();
      if (layer.type === 'linear') {
        const w = weights(layer.weightName);
        ops.gemm({ transA: false, transB: false, m: rows, n: layer.outFeatures, k: width, a: input, b: w, c: out });
        if (layer.bias) ops.biasAdd(out, weights(layer.biasName), rows, layer.outFeatures);
        width = layer.outFeatures;
      } else {
        ops.activation(layer.fn, input, out, rows * width);
      }
      input = out;
    });
    return this.outputs[this.outputs.length - 1].view().subarray(0, rows * width);
  }

  /** A buffer for ∂loss/∂output of the last forward (rows × outFeatures), for backward(). */
  outputGrad(): Float32Array {
    return this.gradA.view().subarray(0, this.rows * this.model.outFeatures);
  }

  /**
   * Back-propagates ∂loss/∂output — written into outputGrad() — through the last forward, writing
   * every parameter's gradient into grads(name) (overwriting). Weights must be those of the forward.
   */
  backward(weights: TensorSource, grads: GradSink): void {
    const rows = this.rows;
    if (rows === 0) throw new Error('Network.backward: call forward() first');
    const ops = this.ops;
    const layers = this.model.layers;
    const firstLinear = layers.findIndex((l) => l.type === 'linear');
    let dy = this.gradA.view();
    let spare = this.gradB.view();
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i];
      const input = i === 0 ? (this.inputIsExternal ?? this.input.view()) : this.outputs[i - 1].view();
      const width = this.model.outputWidths[i];
      if (layer.type === 'activation') {
        // In place: each kernel reads dy[j] before writing dx[j].
        ops.activationBackward(layer.fn, input, this.outputs[i].view(), dy, dy, rows * width);
        continue;
      }
      const gw = grads(layer.weightName);
      if (gw) ops.gemm({ transA: true, transB: false, m: layer.inFeatures, n: layer.outFeatures, k: rows, a: input, b: dy, c: gw });
      if (layer.bias) {
        const gb = grads(layer.biasName);
        if (gb) ops.biasGrad(dy, gb, rows, layer.outFeatures);
      }
      if (i > firstLinear) {
        ops.gemm({ transA: false, transB: true, m: rows, n: layer.inFeatures, k: layer.outFeatures, a: dy, b: weights(layer.weightName), c: spare });
        [dy, spare] = [spare, dy];
      }
    }
  }
}
