// A Sequential model bound to the GPU: the counterpart of Network (src/nn/network.ts) whose
// activations live in GPU buffers allocated once for maxBatch rows. Weights are read from, and
// gradients written into, the optimizer's own buffers (ctx.thetaBinding / ctx.gradBinding), so a
// training sample uploads only the minibatch and reads back only the per-row losses.

import type { LossKind } from '../../src/nn/losses.js';
import type { Sequential } from '../../src/nn/network.js';
import type { TrainableOptimizer } from '../../src/nn/trainable.js';
import type { SampleContext } from '../../src/optim/sample-context.js';
import { tensorOf, type GpuNnOps, type GpuTensor, type NnRecording } from './gpu-ops.js';

/** Where weights are read from (or gradients written to) on the GPU, by parameter name. */
export type GpuTensorSource = (name: string) => GpuTensor;
export type GpuGradSink = (name: string) => GpuTensor | undefined;

const at = (buffer: GPUBuffer): GpuTensor => ({ buffer, offset: 0 });

export class GpuNetwork {
  readonly kind = 'webgpu' as const;
  private readonly input: GPUBuffer;
  private readonly outputs: GPUBuffer[];
  private readonly gradA: GPUBuffer;
  private readonly gradB: GPUBuffer;
  private readonly target: GPUBuffer;
  private readonly rowLoss: GPUBuffer;
  /** Holds the mean weights for predictAtMean (uploaded per call), allocated on first use. */
  private meanWeights: { buffer: GPUBuffer; offsets: Map<string, number> } | undefined;
  private destroyed = false;

  constructor(
    readonly model: Sequential,
    readonly ops: GpuNnOps,
    readonly maxBatch: number,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`GpuNetwork: maxBatch must be a positive integer, got ${maxBatch}`);
    this.input = ops.createBuffer(maxBatch * model.inFeatures, 'input');
    this.outputs = model.outputWidths.map((w, i) => ops.createBuffer(maxBatch * w, `layer ${i} output`));
    this.gradA = ops.createBuffer(maxBatch * model.widestActivation, 'grad A');
    this.gradB = ops.createBuffer(maxBatch * model.widestActivation, 'grad B');
    this.target = ops.createBuffer(maxBatch * model.outFeatures, 'targets');
    this.rowLoss = ops.createBuffer(maxBatch, 'row losses');
  }

  get outFeatures(): number {
    return this.model.outFeatures;
  }

  /**
   * One training sample inside opt.sampledParams: forward at θ, the loss and its gradient, backward
   * into the gradient buffers of every trainable parameter. Returns the minibatch-mean loss.
   */
  async trainSample(ctx: SampleContext, opt: TrainableOptimizer, x: Float32Array, targets: ArrayLike<number>, rows: number, loss: LossKind): Promise<number> {
    this.checkRows('trainSample', x, rows);
    const cols = this.outFeatures;
    const tw = loss === 'cross-entropy' ? 1 : loss === 'mse' ? cols : cols / 2;
    if (targets.length < rows * tw) throw new Error(`trainSample: ${targets.length} targets, ${rows * tw} needed for '${loss}'`);
    if (loss === 'cross-entropy') {
      for (let i = 0; i < rows; i++) {
        const y = targets[i];
        if (!Number.isInteger(y) || y < 0 || y >= cols) throw new Error(`softmaxCrossEntropy: label ${y} at row ${i} is not an integer in 0..${cols - 1}`);
      }
    }
    await this.ops.ready();
    const theta: GpuTensorSource = (name) => tensorOf(ctx.thetaBinding(name));
    const grads: GpuGradSink = (name) => {
      const slot = opt.layout.params.get(name);
      if (slot && opt.layout.groups[slot.group].frozen) return undefined;
      return tensorOf(ctx.gradBinding(name));
    };
    this.ops.upload(at(this.input), x.subarray(0, rows * this.model.inFeatures));
    this.ops.upload(at(this.target), Float32Array.from({ length: rows * tw }, (_, i) => targets[i]));
    const rec = this.ops.record();
    const out = this.recordForward(rec, theta, rows);
    rec.loss(loss, out, this.target, this.gradA, this.rowLoss, rows, cols);
    this.recordBackward(rec, theta, grads, rows);
    const perRow = await this.ops.runAndRead(rec, at(this.rowLoss), rows);
    let total = 0;
    for (const v of perRow) total += v;
    return total;
  }

  /** Runs the model on `rows` rows of x and reads the output back (rows × outFeatures). */
  async forwardRead(weights: GpuTensorSource, x: Float32Array, rows: number): Promise<Float32Array> {
    this.checkRows('forwardRead', x, rows);
    await this.ops.ready();
    this.ops.upload(at(this.input), x.subarray(0, rows * this.model.inFeatures));
    const rec = this.ops.record();
    const out = this.recordForward(rec, weights, rows);
    return this.ops.runAndRead(rec, at(out), rows * this.outFeatures);
  }

  /** GPU tensors holding the given weights (the optimizer's mean, read once per call). */
  async uploadWeights(read: (name: string) => Promise<Float32Array>): Promise<GpuTensorSource> {
    if (!this.meanWeights) {
      const offsets = new Map<string, number>();
      let total = 0;
      for (const [name, shape] of Object.entries(this.model.shapes())) {
        offsets.set(name, total);
        total += Math.ceil(shape.reduce((p, s) => p * s, 1) / 16) * 16;
      }
      this.meanWeights = { buffer: this.ops.createBuffer(total, 'mean weights'), offsets };
    }
    const { buffer, offsets } = this.meanWeights;
    for (const [name, offset] of offsets) this.ops.upload({ buffer, offset }, await read(name));
    return (name) => {
      const offset = offsets.get(name);
      if (offset === undefined) throw new Error(`GpuNetwork: unknown parameter '${name}'`);
      return { buffer, offset };
    };
  }

  /** Frees the GPU buffers (the network cannot be used afterwards). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const all = [this.input, ...this.outputs, this.gradA, this.gradB, this.target, this.rowLoss];
    if (this.meanWeights) all.push(this.meanWeights.buffer);
    this.ops.forget(all);
    for (const b of all) b.destroy();
  }

  private checkRows(fn: string, x: Float32Array, rows: number): void {
    if (this.destroyed) throw new Error(`GpuNetwork.${fn}: the network was destroyed; bind the model again`);
    if (!Number.isInteger(rows) || rows < 1 || rows > this.maxBatch) {
      throw new Error(`GpuNetwork.${fn}: rows must be an integer in 1..${this.maxBatch} (maxBatch of bind()), got ${rows}`);
    }
    const need = rows * this.model.inFeatures;
    if (!(x instanceof Float32Array) || x.length < need) throw new Error(`GpuNetwork.${fn}: x must be a Float32Array of at least rows·inFeatures = ${need} values`);
  }

  /** Records the forward pass of the rows in `input`; returns the buffer holding the output. */
  private recordForward(rec: NnRecording, weights: GpuTensorSource, rows: number): GPUBuffer {
    let input = this.input;
    let width = this.model.inFeatures;
    this.model.layers.forEach((layer, i) => {
      const out = this.outputs[i];
      if (layer.type === 'linear') {
        rec.gemm({ transA: false, transB: false, m: rows, n: layer.outFeatures, k: width, a: at(input), b: weights(layer.weightName), c: at(out) });
        if (layer.bias) rec.biasAdd(at(out), weights(layer.biasName), rows, layer.outFeatures);
        width = layer.outFeatures;
      } else {
        rec.activation(layer.fn, at(input), at(out), rows * width);
      }
      input = out;
    });
    return this.outputs[this.outputs.length - 1];
  }

  /** Records backpropagation of ∂loss/∂output (in gradA) through the last forward. */
  private recordBackward(rec: NnRecording, weights: GpuTensorSource, grads: GpuGradSink, rows: number): void {
    const layers = this.model.layers;
    const firstLinear = layers.findIndex((l) => l.type === 'linear');
    let dy = this.gradA;
    let spare = this.gradB;
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i];
      const input = i === 0 ? this.input : this.outputs[i - 1];
      if (layer.type === 'activation') {
        rec.activationBackward(layer.fn, at(input), at(this.outputs[i]), at(dy), rows * this.model.outputWidths[i]);
        continue;
      }
      const gw = grads(layer.weightName);
      if (gw) rec.gemm({ transA: true, transB: false, m: layer.inFeatures, n: layer.outFeatures, k: rows, a: at(input), b: at(dy), c: gw });
      if (layer.bias) {
        const gb = grads(layer.biasName);
        if (gb) rec.biasGrad(at(dy), gb, rows, layer.outFeatures);
      }
      if (i > firstLinear) {
        rec.gemm({ transA: false, transB: true, m: rows, n: layer.inFeatures, k: layer.outFeatures, a: at(dy), b: weights(layer.weightName), c: at(spare) });
        [dy, spare] = [spare, dy];
      }
    }
  }
}
