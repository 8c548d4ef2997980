// WasmBackend.nnHost(): the model toolkit's kernels on the optimizer's own WebAssembly memory.
// Asserts the host shares the backend's memory and heap, that createNnOps picks the WASM ops for
// a wasm runtime (also with the worker pool), that the GEMM reads an optimizer's ctx.theta view in
// place and matches the plain-TS ops, and that activation views survive memory growth.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, IVON, type Runtime } from '../src/index.js';
import { createWasmBackend, type WasmBackend } from '../src/backends/wasm.js';
import { JsOps } from '../src/nn/ops.js';
import { createNnOps } from '../src/nn/runtime-ops.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  while (runtimes.length) await runtimes.pop()!.dispose();
});

function filled(view: Float32Array, seed: number): Float32Array {
  for (let i = 0; i < view.length; i++) view[i] = Math.sin(seed + 0.37 * i);
  return view;
}

describe('WasmBackend.nnHost', () => {
  it('hands out aligned blocks of the backend heap and takes them back', async () => {
    const backend: WasmBackend = await createWasmBackend();
    const host = backend.nnHost();
    expect(host.memory).toBe(backend.memory);
    expect(typeof host.exports.nnGemm).toBe('function');
    const before = backend.heap.usedBytes;
    const a = host.alloc(100);
    const b = host.alloc(4);
    expect(a % 64).toBe(0);
    expect(b % 64).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 100);
    expect(backend.heap.usedBytes).toBe(before + 128 + 64);
    host.free(a);
    host.free(b);
    expect(backend.heap.usedBytes).toBe(before);
    await backend.dispose();
    expect(() => backend.nnHost()).toThrow(/after dispose/);
  });

  it('createNnOps runs the WASM GEMM on an optimizer view in place, equal to the TS ops, across memory growth', async () => {
    const rt = await createRuntime({ backend: 'wasm' });
    runtimes.push(rt);
    const ops = createNnOps(rt);
    expect(ops.kind).toBe('wasm');
    const [m, k, n] = [5, 33, 17];
    const opt = new IVON(rt, { params: { w: filled(new Float32Array(k * n), 1) }, shapes: { w: [k, n] }, lr: 0.1, ess: 100 });
    const x = filled(ops.alloc(m * k).view(), 2);
    const out = ops.alloc(m * n);
    const ref = new Float32Array(m * n);
    const memory = (rt.compute as WasmBackend).memory;
    const bytesBefore = memory.buffer.byteLength;
    await opt.sampledParams((ctx) => {
      const w = ctx.theta('w');
      expect(ops.accepts(w)).toBe(true); // the optimizer's own memory: no copy
      ops.gemm({ transA: false, transB: false, m, n, k, a: x, b: w, c: out.view() });
      new JsOps().gemm({ transA: false, transB: false, m, n, k, a: x.slice(), b: w.slice(), c: ref });
    }, { train: false });
    for (let i = 0; i < ref.length; i++) expect(out.view()[i]).toBeCloseTo(ref[i], 5);
    // Force the heap to grow: old views detach, Buf.view() re-derives on the new buffer.
    const big = ops.alloc(8 << 20);
    expect(memory.buffer.byteLength).toBeGreaterThan(bytesBefore);
    expect(out.view().buffer).toBe(memory.buffer);
    expect(big.view().length).toBe(8 << 20);
    for (let i = 0; i < ref.length; i++) expect(out.view()[i]).toBeCloseTo(ref[i], 5);
    const w = opt.param('w');
    const again = ops.alloc(m * n);
    ops.gemm({ transA: false, transB: false, m, n, k, a: ops.alloc(m * k).view().fill(0), b: w, c: again.view() });
    expect(Array.from(again.view())).toEqual(new Array(m * n).fill(0));
  });

  it('the worker-pool runtime gives the model the WASM ops too (main-thread instance, shared memory)', async () => {
    const rt = await createRuntime({ backend: 'wasm', workers: 1 });
    runtimes.push(rt);
    const ops = createNnOps(rt);
    expect(ops.kind).toBe('wasm');
    const x = filled(ops.alloc(3 * 4).view(), 3);
    const w = filled(ops.alloc(4 * 2).view(), 4);
    const c = ops.alloc(3 * 2).view();
    ops.gemm({ transA: false, transB: false, m: 3, n: 2, k: 4, a: x, b: w, c });
    const ref = new Float32Array(6);
    new JsOps().gemm({ transA: false, transB: false, m: 3, n: 2, k: 4, a: x.slice(), b: w.slice(), c: ref });
    for (let i = 0; i < 6; i++) expect(c[i]).toBeCloseTo(ref[i], 5);
  });
});
