// The model toolkit's GEMM split by output rows over the worker pool (PoolBackend.nnHost): every
// shard count gives exactly the single-thread WASM bits (all transposes, odd shapes, padded
// leading dimensions, accumulate), a training run on the pool ends with the single-thread
// weights bit for bit, and a worker that dies or throws mid-GEMM fails that call with the pool's
// error classes (an accumulating product gets C back) while the next call succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPoolBackend, WorkerCrashedError, WorkerTimeoutError, type PoolBackend } from '../src/backends/pool.js';
import { createWasmBackend, type WasmBackend } from '../src/backends/wasm.js';
import { IVON } from '../src/index.js';
import type { Runtime, RuntimeExplanation } from '../src/runtime.js';
import { fit } from '../src/nn/fit.js';
import { mlp } from '../src/nn/network.js';
import { relu } from '../src/nn/layers.js';
import { WasmOps, type WasmNnHost } from '../src/nn/ops-wasm.js';
import type { GemmSpec, NnOps } from '../src/nn/ops.js';
import { createNnOps } from '../src/nn/runtime-ops.js';
import { mulberry32 } from './conformance/helpers.js';

/** Index of the first element whose float32 bits differ, or -1 (-2: lengths differ). */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.findIndex((v, i) => v !== y[i]);
}

/** The WASM NnOps on a backend's memory (what createNnOps builds for a wasm runtime). */
function opsOn(backend: WasmBackend): WasmOps {
  return new WasmOps(backend.nnHost() as unknown as WasmNnHost);
}

function random(count: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: count }, () => 2 * rng() - 1);
}

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  accumulate: boolean;
  /** Extra columns of padding in every leading dimension. */
  pad: number;
}

/** Runs one product on `ops` with operands copied in from the same seeds; returns C. */
function product(ops: NnOps, c: Case, seed: number): Float32Array {
  const lda = (c.transA ? c.m : c.k) + c.pad;
  const ldb = (c.transB ? c.k : c.n) + c.pad;
  const ldc = c.n + c.pad;
  const a = ops.alloc((c.transA ? c.k : c.m) * lda).view();
  a.set(random(a.length, seed));
  const b = ops.alloc((c.transB ? c.n : c.k) * ldb).view();
  b.set(random(b.length, seed + 1));
  const out = ops.alloc(c.m * ldc).view();
  out.set(random(out.length, seed + 2));
  const spec: GemmSpec = { transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, a, b, c: out, accumulate: c.accumulate, lda, ldb, ldc };
  ops.gemm(spec);
  return out.slice();
}

const SHAPES: Array<[number, number, number]> = [
  [37, 19, 23], // nothing a multiple of the 4×8 tile
  [130, 70, 300], // past MC = 128 rows and KC = 256 deep
  [9, 1, 5], // one column, rows split 4 + 5
  [258, 33, 7],
];
const CASES: Case[] = SHAPES.flatMap(([m, n, k], s) =>
  [false, true].flatMap((transA) =>
    [false, true].map((transB, t) => ({ transA, transB, m, n, k, accumulate: (s + t) % 2 === 1, pad: s === 3 ? 3 : 0 })),
  ),
);

describe.each([1, 2, 3])('sharded GEMM with %i worker(s)', (workers) => {
  let pool: PoolBackend;
  let single: WasmBackend;
  beforeAll(async () => {
    pool = await createPoolBackend({ workers, minGemmFlopsPerWorker: 1 });
    single = await createWasmBackend();
  });
  afterAll(async () => {
    await pool?.dispose();
    await single?.dispose();
  });

  it.each(CASES)('transA $transA transB $transB $m×$n·k$k accumulate $accumulate pad $pad: same bits as one thread', (c) => {
    const threads = workers + 1;
    expect(pool.gemmShardsFor(c.m, c.n, c.k)).toBe(Math.min(threads, Math.floor(c.m / 4)));
    const poolOps = opsOn(pool);
    const singleOps = opsOn(single);
    const before = pool.shardedGemmCount;
    const got = product(poolOps, c, 7 + c.m);
    const want = product(singleOps, c, 7 + c.m);
    expect(pool.shardedGemmCount).toBe(before + 1);
    expect(firstBitDifference(got, want)).toBe(-1);
    expect(got.some((v, i) => v !== random(got.length, 9 + c.m)[i])).toBe(true); // C was written
  });

  it('keeps small products on the calling thread under the default threshold', async () => {
    const defaults = await createPoolBackend({ workers });
    try {
      expect(defaults.gemmShardsFor(32, 64, 64)).toBe(1); // 262k flops
      expect(defaults.gemmShardsFor(256, 1024, 1024)).toBe(workers + 1);
      const ops = opsOn(defaults);
      const c: Case = { transA: false, transB: true, m: 32, n: 64, k: 64, accumulate: false, pad: 0 };
      const got = product(ops, c, 3);
      expect(defaults.shardedGemmCount).toBe(0);
      expect(firstBitDifference(got, product(opsOn(single), c, 3))).toBe(-1);
    } finally {
      await defaults.dispose();
    }
  });
});

/** A Runtime around a backend built here (createRuntime has no GEMM threshold option). */
function runtimeOf(compute: WasmBackend, workers: number): Runtime {
  return {
    backend: 'wasm',
    workers,
    compute,
    explain: () => ({ chosen: 'wasm', workers, description: compute.description, reason: 'built by the test', probes: {} as RuntimeExplanation['probes'], refused: {}, warnings: [] }),
    dispose: () => compute.dispose(),
  };
}

/** Trains a 20-48-32-5 ReLU MLP with IVON for 3 epochs; returns every parameter's mean. */
async function train(compute: WasmBackend, workers: number): Promise<Record<string, Float32Array>> {
  const rt = runtimeOf(compute, workers);
  const rows = 96;
  const x = random(rows * 20, 11);
  const targets = Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? 4 : (x[i * 20] > 0 ? 1 : 0) + (x[i * 20 + 1] > 0 ? 2 : 0)));
  const model = mlp([20, 48, 32, 5], relu);
  const net = model.bind(createNnOps(rt) as NnOps, 32);
  const opt = new IVON(rt, { params: model.init(3), shapes: model.shapes(), lr: 0.1, ess: 500, hessInit: 0.5, seed: 5, mcSamples: 2 });
  await fit(net, opt, { x, targets, rows }, { loss: 'cross-entropy', epochs: 3, batchSize: 32, lr: 0.1, warmupSteps: 2, seed: 1 });
  const out: Record<string, Float32Array> = {};
  for (const name of opt.parameterNames) out[name] = (await opt.read(name)).mean;
  opt.dispose();
  return out;
}

describe('training on the pool', () => {
  // IVON draws its noise ahead on a worker during each block (docs/PERFORMANCE.md) while the
  // block's GEMMs are sharded: with one worker they must wait for it or run alone, never both.
  for (const workers of [1, 2]) it(`fit() with ${workers} worker(s) ends with the single-thread weights bit for bit, with GEMMs sharded and noise drawn ahead`, async () => {
    const pool = await createPoolBackend({ workers, minGemmFlopsPerWorker: 1 });
    const single = await createWasmBackend();
    try {
      const got = await train(pool, workers);
      const want = await train(single, 0);
      // Blocks started draws (one is refused while the previous draw's worker has not reported done).
      expect(pool.aheadReport().jobs).toBeGreaterThan(0);
      expect(pool.shardedGemmCount).toBeGreaterThanOrEqual(workers === 2 ? 3 * 3 * 2 * 4 : 1); // 3 steps × 3 epochs × 2 samples × ≥4 products
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      const init = mlp([20, 48, 32, 5], relu).init(3);
      for (const name of Object.keys(want)) {
        expect(firstBitDifference(got[name], want[name]), name).toBe(-1);
        expect(firstBitDifference(got[name], init[name]), `${name} trained`).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await pool.dispose();
      await single.dispose();
    }
  });
});

describe('worker faults during a sharded GEMM', () => {
  let pool: PoolBackend;
  let single: WasmBackend;
  beforeAll(async () => {
    pool = await createPoolBackend({ workers: 2, minGemmFlopsPerWorker: 1, workerTimeoutMs: 1000 });
    single = await createWasmBackend();
  });
  afterAll(async () => {
    await pool?.dispose();
    await single?.dispose();
  });

  const c: Case = { transA: true, transB: false, m: 96, n: 40, k: 50, accumulate: true, pad: 0 };

  const faults = [
    { kind: 'exit', error: WorkerCrashedError, message: /crashed during nnGemm on output rows \[\d+, \d+\) of 96×40: the worker exited/ },
    { kind: 'throw', error: WorkerCrashedError, message: /threw during nnGemm on output rows/ },
    { kind: 'hang', error: WorkerTimeoutError, message: /did not finish nnGemm on output rows .* within 1000 ms/ },
  ] as const;

  it.each(faults)('worker fault $kind mid-GEMM: the call fails ($error.name), C intact; the next call succeeds', async ({ kind, error: errorClass, message }) => {
    const ops = opsOn(pool);
    const want = product(opsOn(single), c, 21);
    await pool.injectFault(1, { kind, afterChunks: 0, kernel: 'nnGemm' });
    // The same operands as product(), kept so C's contents after the failure can be checked.
    const a = ops.alloc(c.k * c.m).view();
    a.set(random(a.length, 21));
    const b = ops.alloc(c.k * c.n).view();
    b.set(random(b.length, 22));
    const out = ops.alloc(c.m * c.n).view();
    const old = random(out.length, 23);
    out.set(old);
    const spec: GemmSpec = { transA: true, transB: false, m: c.m, n: c.n, k: c.k, a, b, c: out, accumulate: true };
    const started = Date.now();
    let error: unknown;
    try {
      ops.gemm(spec);
    } catch (e) {
      error = e;
    }
    const elapsed = Date.now() - started;
    if (kind === 'hang') expect(elapsed).toBeGreaterThanOrEqual(1000);
    else expect(elapsed).toBeLessThan(500); // seen at once, not at the timeout
    expect(error).toBeInstanceOf(errorClass);
    expect((error as WorkerCrashedError | WorkerTimeoutError).kernel).toBe('nnGemm');
    expect((error as WorkerCrashedError | WorkerTimeoutError).workerIndex).toBe(1);
    expect((error as Error).message).toMatch(message);
    expect(firstBitDifference(out, old)).toBe(-1); // the accumulate was undone
    // At once (the worker is still being replaced): the calling thread alone, right bits.
    ops.gemm(spec);
    expect(firstBitDifference(out, want)).toBe(-1);
    // Once replaced, products are sharded over every worker again.
    await pool.flush();
    expect(pool.gemmShardsFor(c.m, c.n, c.k)).toBe(3);
    const before = pool.shardedGemmCount;
    out.set(old);
    ops.gemm(spec);
    expect(pool.shardedGemmCount).toBe(before + 1);
    expect(firstBitDifference(out, want)).toBe(-1);
  });
});
