// The model toolkit's WGSL kernels (gpu/nn/) in Node (Dawn over SwiftShader) against references:
// the tiled GEMM against a float64 naive product for all four transpose combinations, odd shapes
// (not multiples of the 64×64 tile), element offsets, leading dimensions and accumulate; bias add,
// bias gradient and the activations forward and backward against JsOps; the three losses (value
// and gradient) against src/nn/losses.ts. No adapter is a failure here, never a skip.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseGpu } from '../gpu/gpu-provider.js';
import { GpuNnOps, type GpuTensor } from '../gpu/nn/gpu-ops.js';
import { createWebGpuBackend, type WebGpuBackend } from '../gpu/webgpu-backend.js';
import { lossValue, targetWidth, type LossKind } from '../src/nn/losses.js';
import { JsOps, type ActivationKind } from '../src/nn/ops.js';

/** Deterministic values in [lo, hi). */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  });
}

/** max |got - want| / max(|want|, 1). */
function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

let backend: WebGpuBackend;
let ops: GpuNnOps;
const made: GPUBuffer[] = [];

/** A GPU buffer holding `data` from element `offset` on (the elements before it hold junk). */
function upload(data: Float32Array, offset = 0): GpuTensor {
  const buffer = ops.createBuffer(offset + data.length, 'test');
  made.push(buffer);
  ops.upload({ buffer, offset: 0 }, values(offset, 999, 5, 6));
  const t = { buffer, offset };
  ops.upload(t, data);
  return t;
}

beforeAll(async () => {
  backend = await createWebGpuBackend();
  ops = await new GpuNnOps(backend.device).ready();
});

afterAll(async () => {
  for (const b of made) b.destroy();
  ops?.destroy();
  await backend?.dispose();
  releaseGpu();
});

/** float64 C = op(A)·op(B) (+ C0), row-major with leading dimensions. */
function naiveGemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, c0: Float32Array | undefined, ldc: number): Float64Array {
  const c = new Float64Array(m * ldc);
  if (c0) c.set(c0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = (c0 ? c0[i * ldc + j] : 0) + s;
    }
  return c;
}

describe('tiled GEMM', () => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [5, 7, 3],
    [64, 64, 16],
    [65, 63, 17],
    [70, 130, 33],
    [3, 129, 100],
  ];
  for (const transA of [false, true])
    for (const transB of [false, true])
      for (const [m, n, k] of shapes) {
        it(`op(A) ${transA ? 'Aᵀ' : 'A'} · ${transB ? 'Bᵀ' : 'B'}, ${m}×${n}×${k}, overwrite and accumulate`, async () => {
          const lda = transA ? m : k;
          const ldb = transB ? k : n;
          const a = values((transA ? k : m) * lda, 1 + m);
          const b = values((transB ? n : k) * ldb, 2 + n);
          const c0 = values(m * n, 3 + k);
          const want = naiveGemm(transA, transB, m, n, k, a, lda, b, ldb, undefined, n);
          const wantAcc = naiveGemm(transA, transB, m, n, k, a, lda, b, ldb, c0, n);
          // Operands at unaligned element offsets, as parameters sit in the optimizer's buffers.
          const ta = upload(a, 16), tb = upload(b, 20), tc = upload(c0, 4);
          const got = await ops.runAndRead(ops.record().gemm({ transA, transB, m, n, k, a: ta, b: tb, c: tc }), tc, m * n);
          expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-5);
          ops.upload(tc, c0);
          const acc = await ops.runAndRead(ops.record().gemm({ transA, transB, m, n, k, a: ta, b: tb, c: tc, accumulate: true }), tc, m * n);
          expect(maxRelError(acc, wantAcc)).toBeLessThanOrEqual(1e-5);
        });
      }

  it('honours leading dimensions wider than the operands and leaves C outside m×n alone', async () => {
    const [m, n, k, lda, ldb, ldc] = [9, 11, 13, 17, 12, 15];
    const a = values(m * lda, 7);
    const b = values(k * ldb, 8);
    const c0 = values(m * ldc, 9);
    const want = Float64Array.from(c0);
    const prod = naiveGemm(false, false, m, n, k, a, lda, b, ldb, undefined, ldc);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) want[i * ldc + j] = prod[i * ldc + j];
    const tc = upload(c0);
    const got = await ops.runAndRead(ops.record().gemm({ transA: false, transB: false, m, n, k, a: upload(a), b: upload(b), c: tc, lda, ldb, ldc }), tc, m * ldc);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(1e-5);
  });

  it('refuses an output that shares a buffer with an input, and operands past the buffer end', () => {
    const t = upload(values(64, 1));
    expect(() => ops.record().gemm({ transA: false, transB: false, m: 4, n: 4, k: 4, a: t, b: upload(values(16, 2)), c: t })).toThrow(/different GPU buffer/);
    expect(() => ops.record().gemm({ transA: false, transB: false, m: 9, n: 9, k: 9, a: t, b: t, c: upload(values(81, 3)) })).toThrow(/needs elements/);
  });
});

describe('layer kernels vs JsOps', () => {
  const js = new JsOps();
  const rows = 37, cols = 45;

  it('biasAdd and biasGrad', async () => {
    const y = values(rows * cols, 11), bias = values(cols, 12);
    const want = Float32Array.from(y);
    js.biasAdd(want, bias, rows, cols);
    const ty = upload(y, 8);
    expect(maxRelError(await ops.runAndRead(ops.record().biasAdd(ty, upload(bias, 48), rows, cols), ty, rows * cols), want)).toBeLessThanOrEqual(1e-6);
    const db = new Float32Array(cols);
    js.biasGrad(y, db, rows, cols);
    const tdb = upload(values(cols, 13), 16);
    expect(maxRelError(await ops.runAndRead(ops.record().biasGrad(upload(y, 4), tdb, rows, cols), tdb, cols), db)).toBeLessThanOrEqual(1e-5);
  });

  for (const kind of ['relu', 'gelu', 'tanh'] as ActivationKind[]) {
    it(`${kind} forward and backward (in place)`, async () => {
      const count = rows * cols;
      const x = values(count, 21, -6, 6);
      x[0] = 0; // relu's kink
      x[1] = 40; // saturation
      x[2] = -40;
      const dy = values(count, 22);
      const y = new Float32Array(count);
      js.activation(kind, x, y, count);
      const dx = new Float32Array(count);
      js.activationBackward(kind, x, y, dy, dx, count);
      const tx = upload(x, 12), ty = upload(new Float32Array(count), 16);
      expect(maxRelError(await ops.runAndRead(ops.record().activation(kind, tx, ty, count), ty, count), y)).toBeLessThanOrEqual(1e-5);
      // Backward from the reference output, so the comparison isolates the backward kernel.
      const td = upload(dy, 20);
      expect(maxRelError(await ops.runAndRead(ops.record().activationBackward(kind, tx, upload(y), td, count), td, count), dx)).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('loss kernels vs src/nn/losses.ts', () => {
  const cases: Array<[LossKind, number, number]> = [
    ['cross-entropy', 33, 10],
    ['mse', 21, 3],
    ['gaussian-nll', 19, 4],
  ];
  for (const [kind, rows, cols] of cases) {
    it(`${kind}: per-row losses sum to the mean loss, gradient matches`, async () => {
      const out = values(rows * cols, 31, -4, 4);
      if (kind === 'gaussian-nll') {
        out[cols / 2] = -30; // tiny softplus std
        out[cols / 2 + 1] = 25; // linear branch
      }
      const tw = targetWidth(kind, cols);
      const targets = kind === 'cross-entropy' ? Float32Array.from({ length: rows }, (_, i) => (i * 7) % cols) : values(rows * tw, 32, -2, 2);
      const dWant = new Float64Array(rows * cols);
      const lossWant = lossValue(kind, out, targets, rows, cols, dWant);
      const tOut = upload(out), tTarget = upload(targets), tD = upload(new Float32Array(rows * cols)), tLoss = upload(new Float32Array(rows));
      const rec = ops.record().loss(kind, tOut.buffer, tTarget.buffer, tD.buffer, tLoss.buffer, rows, cols);
      const perRow = await ops.runAndRead(rec, tLoss, rows);
      const total = perRow.reduce((s, v) => s + v, 0);
      expect(Math.abs(total - lossWant) / Math.max(1, Math.abs(lossWant))).toBeLessThanOrEqual(1e-5);
      expect(maxRelError(await ops.read(tD, rows * cols), dWant)).toBeLessThanOrEqual(1e-5);
    });
  }
});
