// A worker that dies, hangs or throws in the middle of a kernel: that call fails with a clear
// error, every value it had changed in place is put back (the undo area), the pool replaces the
// worker, and running the same call again gives exactly the single-thread result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arena, Backend, IvonUpdateArgs, Range, Role } from '../src/backend.js';
import { createPoolBackend, WorkerCrashedError, WorkerTimeoutError, type PoolBackend } from '../src/backends/pool.js';
import { createWasmBackend } from '../src/backends/wasm.js';
import { createRuntime, IVON, type Runtime } from '../src/index.js';
import { mulberry32 } from './conformance/helpers.js';

const N = 60_000; // 3 shards of 20k: 5 undo chunks of 4096 each, so a fault after 2 chunks is mid-shard
const ALL: Range = { start: 0, count: N };
const ROLES: Role[] = ['mean', 'hess', 'momentum', 'expAvgSq', 'grad', 'noise', 'gradMean', 'curvMean', 'theta'];
const UPDATE: IvonUpdateArgs = {
  hessApprox: 'price', ess: 100, weightDecay: 1e-3, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99, oneMinusBeta2: 0.01,
  curvCoef: 5e-5, invDebias: 10, alpha: 0.1, clipRadius: Infinity,
};

type KernelName = 'ivonUpdateFused' | 'ivonAccumulate' | 'adamwUpdate';
const KERNELS: Record<KernelName, { writes: Role[]; run: (b: Backend, a: Arena) => void }> = {
  ivonUpdateFused: { writes: ['mean', 'hess', 'momentum'], run: (b, a) => b.ivonUpdateFused(a, ALL, UPDATE) },
  ivonAccumulate: { writes: ['gradMean', 'curvMean'], run: (b, a) => b.ivonAccumulate(a, ALL, 3, 'price') },
  adamwUpdate: {
    writes: ['mean', 'momentum', 'expAvgSq'],
    run: (b, a) => b.adamwUpdate(a, ALL, { stepSize: 0.01, decayFactor: 0.999, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99, oneMinusBeta2: 0.01, eps: 1e-8, invBiasCorrection2Sqrt: 3.3 }),
  },
};

/** Index of the first element whose float32 bits differ, or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length !== b.length ? 0 : x.findIndex((v, i) => v !== y[i]);
}

function filledArena(backend: Backend): Arena {
  const rng = mulberry32(99);
  const arena = backend.createArena(N, ROLES);
  for (const role of ROLES) backend.write(arena, role, 0, Float32Array.from({ length: N }, () => (role === 'hess' ? 0.5 + rng() : rng() - 0.5)));
  return arena;
}

async function bits(backend: Backend, arena: Arena, roles: Role[]): Promise<Uint32Array[]> {
  return Promise.all(roles.map(async (role) => new Uint32Array((await backend.read(arena, role, ALL)).buffer)));
}

describe('worker pool faults', () => {
  let pool: PoolBackend;
  let single: Backend;
  beforeAll(async () => {
    pool = await createPoolBackend({ workers: 2, minElementsPerWorker: 1024, workerTimeoutMs: 400 });
    single = await createWasmBackend();
  });
  afterAll(async () => {
    await pool?.dispose();
    await single?.dispose();
  });

  const faults = [
    { kind: 'exit', error: WorkerCrashedError, message: /crashed during .* exited with code 1/ },
    { kind: 'throw', error: WorkerCrashedError, message: /threw during .*injected kernel fault/ },
    { kind: 'hang', error: WorkerTimeoutError, message: /did not finish .* within 400 ms/ },
  ] as const;

  for (const [name, kernel] of Object.entries(KERNELS) as Array<[KernelName, (typeof KERNELS)[KernelName]]>) {
    for (const fault of faults) {
      it(`${fault.kind} in worker 1 after 2 of 5 chunks of ${name}: error, state restored, worker replaced, rerun = one thread`, async () => {
        const arena = filledArena(pool);
        const before = await bits(pool, arena, ROLES);
        await pool.injectFault(1, { kind: fault.kind, afterChunks: 2, kernel: name });
        kernel.run(pool, arena);
        pool.fill(arena, 'theta', ALL, 7); // queued behind the failing call: dropped with it
        const error = await pool.flush().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(fault.error);
        expect((error as WorkerCrashedError).workerIndex).toBe(1);
        expect((error as WorkerCrashedError).kernel).toBe(name);
        expect((error as Error).message).toMatch(fault.message);
        expect((error as Error).message).toMatch(/restored/);
        await pool.flush(); // the failure is reported once
        const after = await bits(pool, arena, ROLES);
        ROLES.forEach((role, i) => expect(after[i].findIndex((x, j) => x !== before[i][j]), `${role} changed`).toBe(-1));

        expect(pool.workerCount).toBe(2);
        expect(pool.shardsFor(N)).toBe(3);
        kernel.run(pool, arena);
        await pool.flush();
        const reference = filledArena(single);
        kernel.run(single, reference);
        const want = await bits(single, reference, kernel.writes);
        const got = await bits(pool, arena, kernel.writes);
        kernel.writes.forEach((role, i) => expect(got[i].findIndex((x, j) => x !== want[i][j]), `${role} differs`).toBe(-1));
        pool.destroyArena(arena);
        single.destroyArena(reference);
      });
    }
  }
});

describe('worker pool faults inside IVON.step()', () => {
  let rt: Runtime;
  let reference: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'wasm', workers: 2, minElementsPerWorker: 1024, workerTimeoutMs: 400 });
    reference = await createRuntime({ backend: 'wasm' });
  });
  afterAll(async () => {
    await rt?.dispose();
    await reference?.dispose();
  });

  async function twoSampleStep(opt: IVON): Promise<void> {
    for (let s = 0; s < 2; s++) {
      await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from(ctx.theta('w'), (x, i) => (1 + (i % 5)) * x - 0.3)));
    }
  }

  it('a worker killed mid-update fails the step, leaves the state and t as they were, and the retried step matches one thread', async () => {
    const init = Float32Array.from({ length: N }, (_, i) => Math.sin(i));
    // noiseAhead off: a draw still holding the one worker would leave the update unsharded (no fault).
    const options = { params: { w: init }, lr: 0.1, ess: 1000, beta2: 0.99, seed: 5, mcSamples: 2, noiseAhead: false };
    const opt = new IVON(rt, options);
    const ref = new IVON(reference, options);
    for (const o of [opt, ref]) {
      await twoSampleStep(o);
      await o.step();
      await twoSampleStep(o);
    }
    const before = await opt.read('w');
    await (rt.compute as PoolBackend).injectFault(0, { kind: 'exit', afterChunks: 1, kernel: 'ivonUpdate' });
    await expect(opt.step()).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(opt.stepCount).toBe(1);
    const after = await opt.read('w');
    for (const key of ['mean', 'hess', 'momentum'] as const) expect(firstBitDifference(after[key], before[key]), key).toBe(-1);
    await opt.step();
    await ref.step();
    expect(opt.stepCount).toBe(2);
    const got = await opt.read('w');
    const want = await ref.read('w');
    for (const key of ['mean', 'hess', 'momentum'] as const) expect(firstBitDifference(got[key], want[key]), key).toBe(-1);
    opt.dispose();
    ref.dispose();
  });
});
