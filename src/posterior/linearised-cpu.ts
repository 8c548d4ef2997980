// The linearised prediction variance on the CPU model kernels (NnOps: js, wasm, wasm + workers),
// without per-example Jacobians. For a Linear layer y = a·W + b (W stored [in, out]) the Jacobian
// of output k w.r.t. W[q,p] is δ^(k)_p·a_q, so with a diagonal posterior
//   v_ik = Σ_layers Σ_p (δ^(k)_ip)² · S_ip,   S = (a⊙a)·Σ²_W + σ²_b,
// where δ^(k) is the error back-propagated from a one-hot seed at output k. S is one GEMM per
// layer (independent of k); the K seeds go back together as one batch of K·rows rows, so each
// layer costs one error-only GEMM (no weight gradients) — docs/POSTERIOR.md §1.
import type { Network, TensorSource } from '../nn/network.js';
import type { Buf, NnOps } from '../nn/ops.js';

interface Workspace {
  rows: number;
  input: Buf;
  /** outputs[i]: layer i's output (rows × width_i). */
  outputs: Buf[];
  /** a ⊙ a of a Linear layer's input (rows × widest). */
  squares: Buf;
  /** S of each Linear layer (rows × out), by layer index. */
  spread: Map<number, Buf>;
  /** Errors of the K seeds, K·rows × widest, two for ping-pong. */
  errA: Buf;
  errB: Buf;
  /** σ² of each parameter, copied where the kernels can read it. */
  variances: Map<string, Buf>;
}

const workspaces = new WeakMap<Network, Workspace>();

/** Row chunk the pass works in (rows × K·widest floats of error buffers). */
export function cpuChunkRows(net: Network): number {
  return Math.min(net.maxBatch, 256);
}

function workspaceOf(net: Network, rows: number): Workspace {
  const cached = workspaces.get(net);
  if (cached && cached.rows >= rows) return cached;
  const ops: NnOps = net.ops;
  const model = net.model;
  const k = model.outFeatures;
  const widths = model.outputWidths;
  const widest = model.widestActivation;
  const spread = new Map<number, Buf>();
  model.layers.forEach((l, i) => {
    if (l.type === 'linear') spread.set(i, ops.alloc(rows * l.outFeatures));
  });
  const variances = new Map<string, Buf>();
  for (const [name, shape] of Object.entries(model.shapes())) variances.set(name, ops.alloc(shape.reduce((a, b) => a * b, 1)));
  const ws: Workspace = {
    rows,
    input: ops.alloc(rows * model.inFeatures),
    outputs: widths.map((w) => ops.alloc(rows * w)),
    squares: ops.alloc(rows * widest),
    spread,
    errA: ops.alloc(k * rows * widest),
    errB: ops.alloc(k * rows * widest),
    variances,
  };
  workspaces.set(net, ws);
  return ws;
}

/**
 * Outputs at `weights` and their linearised variance for `rows` rows of x (rows ≤ cpuChunkRows),
 * written into out (rows × K) and variance (rows × K, accumulated in float64 then stored).
 */
export function linearisedChunk(net: Network, weights: TensorSource, sigma2: Record<string, Float32Array>, x: Float32Array, rows: number, out: Float32Array, variance: Float64Array): void {
  const ops = net.ops;
  const model = net.model;
  const K = model.outFeatures;
  const ws = workspaceOf(net, cpuChunkRows(net));
  // Views after every allocation (a growing WASM memory detaches older views).
  for (const [name, buf] of ws.variances) buf.view().set(sigma2[name]);
  const input = ws.input.view().subarray(0, rows * model.inFeatures);
  input.set(x.subarray(0, rows * model.inFeatures));
  const outputs = ws.outputs.map((b) => b.view());
  const squares = ws.squares.view();
  const layerInput = (i: number) => (i === 0 ? input : outputs[i - 1]);

  // Forward at the weights; S = (a⊙a)·Σ²_W + σ²_b beside each Linear layer.
  let width = model.inFeatures;
  model.layers.forEach((layer, i) => {
    const a = layerInput(i);
    if (layer.type === 'activation') {
      ops.activation(layer.fn, a, outputs[i], rows * width);
      return;
    }
    ops.gemm({ transA: false, transB: false, m: rows, n: layer.outFeatures, k: width, a, b: weights(layer.weightName), c: outputs[i] });
    if (layer.bias) ops.biasAdd(outputs[i], weights(layer.biasName), rows, layer.outFeatures);
    for (let j = 0; j < rows * width; j++) squares[j] = a[j] * a[j];
    const s = ws.spread.get(i)!.view();
    ops.gemm({ transA: false, transB: false, m: rows, n: layer.outFeatures, k: width, a: squares, b: ws.variances.get(layer.weightName)!.view(), c: s });
    if (layer.bias) ops.biasAdd(s, ws.variances.get(layer.biasName)!.view(), rows, layer.outFeatures);
    width = layer.outFeatures;
  });
  out.set(outputs[outputs.length - 1].subarray(0, rows * K));

  // Seeds: block k (rows k·rows … k·rows + rows − 1) of the error is the one-hot e_k.
  let err = ws.errA.view();
  let spare = ws.errB.view();
  err.fill(0, 0, K * rows * K);
  for (let k = 0; k < K; k++) for (let i = 0; i < rows; i++) err[(k * rows + i) * K + k] = 1;
  const firstLinear = model.layers.findIndex((l) => l.type === 'linear');
  width = K;
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i];
    if (layer.type === 'activation') {
      const n = rows * width;
      for (let k = 0; k < K; k++) {
        const block = err.subarray(k * n, (k + 1) * n);
        ops.activationBackward(layer.fn, layerInput(i), outputs[i], block, block, n);
      }
      continue;
    }
    const s = ws.spread.get(i)!.view();
    const out = layer.outFeatures;
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < rows; r++) {
        const e = (k * rows + r) * out;
        const so = r * out;
        let acc = 0;
        for (let p = 0; p < out; p++) acc += err[e + p] * err[e + p] * s[so + p];
        variance[r * K + k] += acc;
      }
    }
    if (i > firstLinear) {
      ops.gemm({ transA: false, transB: true, m: K * rows, n: layer.inFeatures, k: out, a: err, b: weights(layer.weightName), c: spare });
      [err, spare] = [spare, err];
      width = layer.inFeatures;
    }
  }
}
