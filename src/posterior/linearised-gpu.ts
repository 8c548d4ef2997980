// The linearised prediction variance on the GPU (a GpuNetwork): the same passes as
// linearised-cpu.ts — forward, S = (a⊙a)·Σ²_W + σ²_b per Linear layer, then the K one-hot seeds
// back-propagated together as K·rows error rows — recorded as one submit per chunk of rows with
// the toolkit's GEMM, bias and activation kernels plus `square` and `squaredErrorDot`
// (gpu/nn/posterior.wgsl.ts). Only the outputs and the variances are read back.
import type { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import type { GpuNnOps, GpuTensor } from '../../gpu/nn/gpu-ops.js';

interface GpuWorkspace {
  rows: number;
  input: GPUBuffer;
  outputs: GPUBuffer[];
  squares: GPUBuffer;
  spread: Map<number, GPUBuffer>;
  errA: GPUBuffer;
  errB: GPUBuffer;
  variance: GPUBuffer;
  /** Mean weights and σ² of every parameter, at `offsets` (16-float aligned). */
  weights: GPUBuffer;
  variances: GPUBuffer;
  offsets: Map<string, number>;
}

const workspaces = new WeakMap<GpuNetwork, GpuWorkspace>();
const at = (buffer: GPUBuffer, offset = 0): GpuTensor => ({ buffer, offset });

export function gpuChunkRows(net: GpuNetwork): number {
  return Math.min(net.maxBatch, 256);
}

function workspaceOf(net: GpuNetwork): GpuWorkspace {
  const rows = gpuChunkRows(net);
  const cached = workspaces.get(net);
  if (cached && cached.rows >= rows) return cached;
  const ops = net.ops;
  const model = net.model;
  const K = model.outFeatures;
  const widths = model.outputWidths;
  const widest = model.widestActivation;
  const spread = new Map<number, GPUBuffer>();
  model.layers.forEach((l, i) => {
    if (l.type === 'linear') spread.set(i, ops.createBuffer(rows * l.outFeatures, `posterior spread ${i}`));
  });
  const offsets = new Map<string, number>();
  let total = 0;
  for (const [name, shape] of Object.entries(model.shapes())) {
    offsets.set(name, total);
    total += Math.ceil(shape.reduce((a, b) => a * b, 1) / 16) * 16;
  }
  const ws: GpuWorkspace = {
    rows,
    input: ops.createBuffer(rows * model.inFeatures, 'posterior input'),
    outputs: widths.map((w, i) => ops.createBuffer(rows * w, `posterior layer ${i}`)),
    squares: ops.createBuffer(rows * widest, 'posterior squares'),
    spread,
    errA: ops.createBuffer(K * rows * widest, 'posterior errors A'),
    errB: ops.createBuffer(K * rows * widest, 'posterior errors B'),
    variance: ops.createBuffer(rows * K, 'posterior variance'),
    weights: ops.createBuffer(total, 'posterior weights'),
    variances: ops.createBuffer(total, 'posterior σ²'),
    offsets,
  };
  workspaces.set(net, ws);
  return ws;
}

/** Uploads the mean weights and σ² once per call; returns the tensor lookups. */
export function uploadPosterior(net: GpuNetwork, mean: Record<string, Float32Array>, sigma2: Record<string, Float32Array>): void {
  const ws = workspaceOf(net);
  for (const [name, offset] of ws.offsets) {
    net.ops.upload(at(ws.weights, offset), mean[name]);
    net.ops.upload(at(ws.variances, offset), sigma2[name]);
  }
}

/** Outputs and linearised variance of `rows` rows (≤ gpuChunkRows) at the uploaded posterior. */
export async function linearisedChunkGpu(net: GpuNetwork, x: Float32Array, rows: number): Promise<{ out: Float32Array; variance: Float32Array }> {
  const ops: GpuNnOps = net.ops;
  await ops.ready();
  const ws = workspaceOf(net);
  const model = net.model;
  const K = model.outFeatures;
  const w = (name: string) => at(ws.weights, ws.offsets.get(name)!);
  const s2 = (name: string) => at(ws.variances, ws.offsets.get(name)!);
  ops.upload(at(ws.input), x.subarray(0, rows * model.inFeatures));
  const seeds = new Float32Array(K * rows * K);
  for (let k = 0; k < K; k++) for (let i = 0; i < rows; i++) seeds[(k * rows + i) * K + k] = 1;
  ops.upload(at(ws.errA), seeds);
  ops.upload(at(ws.variance), new Float32Array(rows * K));
  const layerInput = (i: number) => (i === 0 ? ws.input : ws.outputs[i - 1]);

  const rec = ops.record();
  let width = model.inFeatures;
  model.layers.forEach((layer, i) => {
    const a = layerInput(i);
    if (layer.type === 'activation') {
      rec.activation(layer.fn, at(a), at(ws.outputs[i]), rows * width);
      return;
    }
    const s = ws.spread.get(i)!;
    rec.gemm({ transA: false, transB: false, m: rows, n: layer.outFeatures, k: width, a: at(a), b: w(layer.weightName), c: at(ws.outputs[i]) });
    rec.square(at(a), at(ws.squares), rows * width);
    rec.gemm({ transA: false, transB: false, m: rows, n: layer.outFeatures, k: width, a: at(ws.squares), b: s2(layer.weightName), c: at(s) });
    if (layer.bias) {
      rec.biasAdd(at(ws.outputs[i]), w(layer.biasName), rows, layer.outFeatures);
      rec.biasAdd(at(s), s2(layer.biasName), rows, layer.outFeatures);
    }
    width = layer.outFeatures;
  });

  let err = ws.errA;
  let spare = ws.errB;
  const firstLinear = model.layers.findIndex((l) => l.type === 'linear');
  width = K;
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i];
    if (layer.type === 'activation') {
      const n = rows * width;
      for (let k = 0; k < K; k++) rec.activationBackward(layer.fn, at(layerInput(i)), at(ws.outputs[i]), at(err, k * n), n);
      continue;
    }
    rec.squaredErrorDot(at(err), at(ws.spread.get(i)!), at(ws.variance), rows, layer.outFeatures, K);
    if (i > firstLinear) {
      rec.gemm({ transA: false, transB: true, m: K * rows, n: layer.inFeatures, k: layer.outFeatures, a: at(err), b: w(layer.weightName), c: at(spare) });
      [err, spare] = [spare, err];
      width = layer.inFeatures;
    }
  }
  const variance = await ops.runAndRead(rec, at(ws.variance), rows * K);
  const out = await ops.read(at(ws.outputs[ws.outputs.length - 1]), rows * K);
  return { out, variance };
}
