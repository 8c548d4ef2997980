// The model toolkit's compute on WebGPU: the GPU counterpart of NnOps (src/nn/ops.ts). Operands
// are GPU tensors (a whole buffer plus an element offset), so a model binds the optimizer's θ and
// gradient buffers directly even though parameters sit at 64-byte boundaries (binding offsets
// would have to be multiples of 256). Calls are recorded into an NnRecording and submitted as
// one compute pass; nothing is read back except what the caller asks for.

import type { ActivationKind, Buf } from '../../src/nn/ops.js';
import type { LossKind } from '../../src/nn/losses.js';
import { BufferUsage, MapMode } from '../usage.js';
import { GEMM_TILE } from './gemm.wgsl.js';
import { ACTIVATION_CODE } from './layers.wgsl.js';
import { LOSS_CODE } from './losses.wgsl.js';
import { NnRunner, type NnDispatch } from './nn-runner.js';

/** A float32 operand on the GPU: `buffer` from element `offset` on. */
export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly offset: number;
}

/** A byte binding ({ buffer, offset, size }, e.g. ctx.thetaBinding) as a tensor. */
export function tensorOf(binding: { buffer: GPUBuffer; offset?: number }): GpuTensor {
  const offset = binding.offset ?? 0;
  if (offset % 4 !== 0) throw new Error(`tensorOf: byte offset ${offset} is not a multiple of 4`);
  return { buffer: binding.buffer, offset: offset / 4 };
}

/** GemmSpec (src/nn/ops.ts) with GPU operands; C must not share a buffer with A or B. */
export interface GpuGemmSpec {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: GpuTensor;
  b: GpuTensor;
  c: GpuTensor;
  accumulate?: boolean;
  lda?: number;
  ldb?: number;
  ldc?: number;
}

const ELEMENTWISE_GROUP = 64;

/** Workgroups for `invocations` on a 2-D grid within the per-dimension limit, and its row size. */
function grid(invocations: number, maxPerDim: number): { x: number; y: number; rowSize: number } {
  const groups = Math.max(1, Math.ceil(invocations / ELEMENTWISE_GROUP));
  const x = Math.min(groups, maxPerDim);
  const y = Math.ceil(groups / x);
  if (y > maxPerDim) throw new Error(`nn: ${invocations} invocations exceed one dispatch's grid; use smaller batches`);
  return { x, y, rowSize: x * ELEMENTWISE_GROUP };
}

function checkCount(what: string, label: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${what}: ${label} must be a non-negative integer, got ${v}`);
}

/** Throws unless elements [offset, offset + need) lie inside the buffer. */
function checkSpan(what: string, label: string, t: GpuTensor, need: number): void {
  checkCount(what, `${label} offset`, t.offset);
  if (need > 0 && (t.offset + need) * 4 > t.buffer.size) {
    throw new Error(`${what}: ${label} needs elements [${t.offset}, ${t.offset + need}) but its buffer holds ${t.buffer.size / 4}`);
  }
}

function checkDistinct(what: string, written: GpuTensor, ...read: GpuTensor[]): void {
  if (read.some((r) => r.buffer === written.buffer)) {
    throw new Error(`${what}: the output must be in a different GPU buffer than the inputs (WebGPU forbids a written binding aliasing another)`);
  }
}

/** Records kernel calls for one submit. */
export class NnRecording {
  readonly dispatches: NnDispatch[] = [];

  constructor(private readonly maxPerDim: number) {}

  gemm(spec: GpuGemmSpec): this {
    const { transA, transB, m, n, k, a, b, c } = spec;
    for (const [label, v] of [['m', m], ['n', n], ['k', k]] as const) checkCount('gemm', label, v);
    const lda = spec.lda ?? (transA ? m : k);
    const ldb = spec.ldb ?? (transB ? k : n);
    const ldc = spec.ldc ?? n;
    const need = (rows: number, cols: number, ld: number) => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);
    checkSpan('gemm', 'A', a, transA ? need(k, m, lda) : need(m, k, lda));
    checkSpan('gemm', 'B', b, transB ? need(n, k, ldb) : need(k, n, ldb));
    checkSpan('gemm', 'C', c, need(m, n, ldc));
    checkDistinct('gemm', c, a, b);
    if (m === 0 || n === 0) return this;
    const x = Math.ceil(n / GEMM_TILE);
    const y = Math.ceil(m / GEMM_TILE);
    if (x > this.maxPerDim || y > this.maxPerDim) throw new Error(`gemm: ${m}×${n} needs ${y}×${x} workgroups, above the device's ${this.maxPerDim} per dimension`);
    this.dispatches.push({
      kernel: 'gemm',
      buffers: [a.buffer, b.buffer, c.buffer],
      words: [m, n, k, lda, ldb, ldc, a.offset, b.offset, c.offset, +transA, +transB, +(spec.accumulate ?? false)],
      workgroups: { x, y },
    });
    return this;
  }

  /** y[r][j] += bias[j]. */
  biasAdd(y: GpuTensor, bias: GpuTensor, rows: number, cols: number): this {
    checkSpan('biasAdd', 'y', y, rows * cols);
    checkSpan('biasAdd', 'bias', bias, cols);
    checkDistinct('biasAdd', y, bias);
    return this.elementwise('biasAdd', [bias.buffer, y.buffer], rows * cols, (rowSize) => [rows, cols, y.offset, bias.offset, rowSize]);
  }

  /** db[j] = Σ_r dy[r][j] (overwrites). */
  biasGrad(dy: GpuTensor, db: GpuTensor, rows: number, cols: number): this {
    checkSpan('biasGrad', 'dy', dy, rows * cols);
    checkSpan('biasGrad', 'db', db, cols);
    checkDistinct('biasGrad', db, dy);
    return this.elementwise('biasGrad', [dy.buffer, db.buffer], cols, (rowSize) => [rows, cols, dy.offset, db.offset, rowSize]);
  }

  activation(kind: ActivationKind, x: GpuTensor, y: GpuTensor, count: number): this {
    checkSpan('activation', 'x', x, count);
    checkSpan('activation', 'y', y, count);
    checkDistinct('activation', y, x);
    return this.elementwise('activation', [x.buffer, y.buffer], count, (rowSize) => [count, activationCode(kind), x.offset, y.offset, rowSize]);
  }

  /** d ← d ⊙ f'(x) in place (x the activation's input, y its output). */
  activationBackward(kind: ActivationKind, x: GpuTensor, y: GpuTensor, d: GpuTensor, count: number): this {
    for (const [label, t] of [['x', x], ['y', y], ['d', d]] as const) checkSpan('activationBackward', label, t, count);
    checkDistinct('activationBackward', d, x, y);
    return this.elementwise('activationBackward', [x.buffer, y.buffer, d.buffer], count, (rowSize) => [count, activationCode(kind), x.offset, y.offset, d.offset, rowSize]);
  }

  /**
   * The loss of `rows` output rows (buffers from element 0): ∂loss/∂output into dOut and each
   * row's share of the minibatch-mean loss into rowLoss. Targets: labels (cross-entropy) or values.
   */
  loss(kind: LossKind, out: GPUBuffer, target: GPUBuffer, dOut: GPUBuffer, rowLoss: GPUBuffer, rows: number, cols: number): this {
    const code = LOSS_CODE[kind];
    if (code === undefined) throw new Error(`loss must be 'cross-entropy', 'mse' or 'gaussian-nll', got ${JSON.stringify(kind)}`);
    if (kind === 'gaussian-nll' && cols % 2 !== 0) throw new Error(`gaussianNll: the head needs 2·d outputs (d means, d raw stds), got ${cols}`);
    const targetWidth = kind === 'cross-entropy' ? 1 : kind === 'mse' ? cols : cols / 2;
    checkSpan('loss', 'out', { buffer: out, offset: 0 }, rows * cols);
    checkSpan('loss', 'target', { buffer: target, offset: 0 }, rows * targetWidth);
    checkSpan('loss', 'dOut', { buffer: dOut, offset: 0 }, rows * cols);
    checkSpan('loss', 'rowLoss', { buffer: rowLoss, offset: 0 }, rows);
    return this.elementwise('loss', [out, target, dOut, rowLoss], rows, (rowSize) => [rows, cols, code, rowSize]);
  }

  /** y = x ⊙ x (the linearised prediction variance, src/posterior). */
  square(x: GpuTensor, y: GpuTensor, count: number): this {
    checkSpan('square', 'x', x, count);
    checkSpan('square', 'y', y, count);
    checkDistinct('square', y, x);
    return this.elementwise('square', [x.buffer, y.buffer], count, (rowSize) => [count, x.offset, y.offset, rowSize]);
  }

  /** v[i·seeds + k] += Σ_p d[(k·rows + i)·cols + p]² · s[i·cols + p] for every row i and seed k. */
  squaredErrorDot(d: GpuTensor, s: GpuTensor, v: GpuTensor, rows: number, cols: number, seeds: number): this {
    checkSpan('squaredErrorDot', 'd', d, seeds * rows * cols);
    checkSpan('squaredErrorDot', 's', s, rows * cols);
    checkSpan('squaredErrorDot', 'v', v, rows * seeds);
    checkDistinct('squaredErrorDot', v, d, s);
    return this.elementwise('squaredErrorDot', [d.buffer, s.buffer, v.buffer], rows * seeds, (rowSize) => [rows, cols, seeds, d.offset, s.offset, v.offset, rowSize]);
  }

  private elementwise(kernel: NnDispatch['kernel'], buffers: GPUBuffer[], invocations: number, words: (rowSize: number) => number[]): this {
    if (invocations === 0) return this;
    const g = grid(invocations, this.maxPerDim);
    this.dispatches.push({ kernel, buffers, words: words(g.rowSize), workgroups: { x: g.x, y: g.y } });
    return this;
  }
}

function activationCode(kind: ActivationKind): number {
  const code = ACTIVATION_CODE[kind];
  if (code === undefined) throw new Error(`activation must be 'relu', 'gelu' or 'tanh', got ${JSON.stringify(kind)}`);
  return code;
}

/** The GPU model kernels of one device. createNnOps() hands this out on a webgpu runtime. */
export class GpuNnOps {
  readonly kind = 'webgpu' as const;
  private runner: NnRunner | undefined;
  private readonly compiling: Promise<NnRunner>;

  /** Starts compiling the pipelines; every async entry point waits for them (ready()). */
  constructor(readonly device: GPUDevice) {
    this.compiling = NnRunner.create(device).then((runner) => (this.runner = runner));
    this.compiling.catch(() => {}); // surfaced by ready()
  }

  /** Resolves once every pipeline is compiled; rejects with the WGSL compiler's messages. */
  async ready(): Promise<this> {
    await this.compiling;
    return this;
  }

  /** Host staging for minibatches (uploaded with writeBuffer): a plain Float32Array. */
  alloc(count: number): Buf {
    const data = new Float32Array(count);
    return { count, view: () => data };
  }

  record(): NnRecording {
    return new NnRecording(this.device.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Submits a recording (one compute pass), then `after` (e.g. a copy for a readback). */
  submit(recording: NnRecording, after?: (encoder: GPUCommandEncoder) => void): void {
    if (!this.runner) throw new Error('GpuNnOps: the pipelines are still compiling; await ops.ready() first');
    this.runner.submit(recording.dispatches, after);
  }

  /** A storage buffer of `count` float32 (at least 16 bytes), readable back and writable from the host. */
  createBuffer(count: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(count / 4) * 16);
    return this.device.createBuffer({ label: `ivon-edge nn ${label}`, size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  }

  upload(t: GpuTensor, data: Float32Array): void {
    checkSpan('upload', 'destination', t, data.length);
    if (data.length > 0) this.device.queue.writeBuffer(t.buffer, t.offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Runs the recording, then copies `count` floats of `t` back (the only wait). */
  async runAndRead(recording: NnRecording, t: GpuTensor, count: number): Promise<Float32Array> {
    await this.ready();
    checkSpan('read', 'source', t, count);
    const bytes = Math.max(4, count * 4);
    const readback = this.device.createBuffer({ label: 'ivon-edge nn readback', size: Math.ceil(bytes / 4) * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.submit(recording, (encoder) => {
      if (count > 0) encoder.copyBufferToBuffer(t.buffer, t.offset * 4, readback, 0, count * 4);
    });
    try {
      await readback.mapAsync(MapMode.READ);
      return new Float32Array(readback.getMappedRange().slice(0, count * 4));
    } finally {
      readback.destroy();
    }
  }

  async read(t: GpuTensor, count: number): Promise<Float32Array> {
    return this.runAndRead(this.record(), t, count);
  }

  forget(buffers: Iterable<GPUBuffer>): void {
    this.runner?.forget(buffers);
  }

  destroy(): void {
    this.runner?.destroy();
  }
}
