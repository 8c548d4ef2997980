// The pool on a busy device, for real: busy processes started in sessions of their own (as other
// apps are: the kernel then shares the cores between process groups) keep both cores loaded while
// a runtime with 1 worker runs sharded ivonSample calls on 4M elements. The pool must notice that
// its shards do not overlap and stop sharding — explain().sharding says so — and every result must
// stay bit-identical to a main-thread-only runtime. Speed is never asserted; decisions and bits are.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arena, Backend, Range, Role } from '../src/backend.js';
import { createPoolBackend } from '../src/backends/pool.js';
import { createWasmBackend, type WasmBackend } from '../src/backends/wasm.js';
import { createRuntime, type Runtime } from '../src/index.js';
import { WasmOps, type WasmNnHost } from '../src/nn/ops-wasm.js';
import { mulberry32 } from './conformance/helpers.js';

const N = 4 * 2 ** 20;
const ROLES: Role[] = ['mean', 'hess', 'theta', 'noise'];
const ALL: Range = { start: 0, count: N };
/** The pool needs 5 sharded calls to judge; more make the EWMA settle and give probes a chance. */
const CALLS = 40;
/** Busy processes: one more than the cores, so the pool's process group gets less than one core. */
const BUSY = availableParallelism() + 1;

function startBusy(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore', detached: true }));
}

function stopBusy(children: ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function prepare(backend: Backend): Arena {
  const arena = backend.createArena(N, ROLES);
  backend.write(arena, 'mean', 0, Float32Array.from({ length: N }, (_, i) => Math.sin(i) * 0.1));
  backend.fill(arena, 'hess', ALL, 0.5);
  return arena;
}

const sample = (step: number) => ({ sample: 0, step, stream: 0, seedLo: 2024, seedHi: 16, ess: 1e4, weightDecay: 1e-4 });

async function bits(backend: Backend, arena: Arena): Promise<Uint32Array> {
  return new Uint32Array((await backend.read(arena, 'theta', ALL)).buffer);
}

/** The first element whose bits differ (-1: identical); toEqual on 4M elements takes minutes. */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('worker pool under contention (busy processes on every core)', () => {
  let adaptive: Runtime;
  let fixed: Runtime;
  let single: Runtime;
  const busy: ChildProcess[] = [];

  beforeAll(async () => {
    adaptive = await createRuntime({ backend: 'wasm', workers: 1 });
    fixed = await createRuntime({ backend: 'wasm', workers: 1, minElementsPerWorker: 131_072 });
    single = await createRuntime({ backend: 'wasm', workers: 0 });
  });
  afterAll(async () => {
    stopBusy(busy);
    await adaptive?.dispose();
    await fixed?.dispose();
    await single?.dispose();
  });

  it('explain().sharding is null without a pool, and reports the defaults before any call', () => {
    expect(single.explain().sharding).toBeNull();
    const before = adaptive.explain().sharding!;
    expect(before).toMatchObject({ state: 'sharding', wakeJoinUs: null, speedup: null, shardedCalls: 0 });
    expect(before.minElementsPerShard.source).toBe('default');
    expect(fixed.explain().sharding!.minElementsPerShard).toEqual({ default: 131_072, byKernel: {}, source: 'option' });
    expect(adaptive.compute.description).toMatch(/shard thresholds measured at run time/);
  });

  it('stops sharding 4M-element ivonSample calls, says why, and the bits equal the main thread alone', async () => {
    const arenas = [adaptive, fixed, single].map((rt) => prepare(rt.compute));
    busy.push(...startBusy(BUSY));
    try {
      let suspendedAt = -1;
      let atSuspension: ReturnType<Runtime['explain']>['sharding'] = null;
      for (let step = 1; step <= CALLS; step++) {
        [adaptive, fixed, single].forEach((rt, k) => rt.compute.ivonSample(arenas[k], ALL, sample(step)));
        await Promise.all([adaptive, fixed, single].map((rt) => rt.compute.flush()));
        if (suspendedAt < 0 && adaptive.explain().sharding!.state === 'suspended') {
          suspendedAt = step;
          atSuspension = adaptive.explain().sharding!;
        }
        if (step === 1 || step === suspendedAt || step === CALLS) {
          const reference = await bits(single.compute, arenas[2]);
          expect(firstDifference(await bits(adaptive.compute, arenas[0]), reference), `adaptive pool, step ${step}`).toBe(-1);
          expect(firstDifference(await bits(fixed.compute, arenas[1]), reference), `fixed pool, step ${step}`).toBe(-1);
        }
      }
      const report = adaptive.explain().sharding!;
      expect(suspendedAt, `never suspended; last report: ${JSON.stringify(report)}`).toBeGreaterThan(0);
      // Suspended at the end too, unless a probe found the cores free and sharding resumed.
      if (report.state === 'suspended') {
        expect(report.reason).toMatch(/another process is using the cores, so calls run on the main thread alone, re-probing/);
        expect((adaptive.compute as unknown as { shardsFor(n: number, k: string): number }).shardsFor(N, 'ivonSample')).toBe(1);
      } else expect(report.probes).toBeGreaterThan(0);
      // When it stopped: at least 5 sharded calls judged, their speed-up below 1.05×, and the reason.
      const stopped = atSuspension!;
      expect(stopped.shardedCalls).toBeGreaterThanOrEqual(5);
      expect(stopped.speedup).toBeLessThan(1.05);
      expect(stopped.reason).toMatch(/^sharded calls ran at [0-9.]+× of one thread over the last 19 calls: another process is using the cores/);
      // The wake-up cost comes only from calls whose shards overlapped: with none, the thresholds are the defaults.
      if (stopped.wakeJoinUs === null) expect(stopped.minElementsPerShard).toMatchObject({ default: 131_072, source: 'default' });
      else {
        expect(stopped.wakeJoinUs).toBeGreaterThanOrEqual(0);
        expect(stopped.minElementsPerShard.source).toBe('measured');
        expect(stopped.minElementsPerShard.byKernel.ivonSample).toBeGreaterThanOrEqual(16);
      }
      expect(stopped.references).toBeGreaterThanOrEqual(1); // the first eligible call ran alone, as the one-thread reference
      // The user's fixed threshold is obeyed whatever the contention: still two shards.
      expect(fixed.explain().sharding!.state).toBe('sharding');
      expect((fixed.compute as unknown as { shardsFor(n: number): number }).shardsFor(N)).toBe(2);
    } finally {
      stopBusy(busy);
    }
  }, 120_000);
});

describe('worker pool: GEMM thresholds learned per shape', () => {
  /** C = A·B on `backend`'s memory (256×256 by 256×256: 33.5 Mflop, split by the 4 Mflop default). */
  function product(backend: WasmBackend, seed: number): Uint32Array {
    const ops = new WasmOps(backend.nnHost() as unknown as WasmNnHost);
    const rng = mulberry32(seed);
    const blocks = [ops.alloc(256 * 256), ops.alloc(256 * 256), ops.alloc(256 * 256)]; // views after every alloc: growing detaches
    const [a, b, c] = blocks.map((block) => block.view());
    a.set(Float32Array.from({ length: a.length }, () => 2 * rng() - 1));
    b.set(Float32Array.from({ length: b.length }, () => 2 * rng() - 1));
    ops.gemm({ transA: false, transB: false, m: 256, n: 256, k: 256, a, b, c, accumulate: false, lda: 256, ldb: 256, ldc: 256 });
    return new Uint32Array(c.slice().buffer);
  }

  it('times each GEMM, reports its shape, and gives the bits of one thread whatever it decided', async () => {
    const pool = await createPoolBackend({ workers: 1 });
    const single = await createWasmBackend();
    try {
      expect(pool.contentionReport().minGemmFlopsPerShard).toEqual({ default: 4_000_000, byShape: {}, source: 'default' });
      for (let seed = 1; seed <= 12; seed++) {
        const mine = product(pool, seed);
        const reference = product(single, seed);
        expect(firstDifference(mine, reference), `GEMM ${seed}`).toBe(-1);
      }
      const report = pool.contentionReport();
      expect(Object.keys(report.minGemmFlopsPerShard.byShape)).toEqual(['256×256']);
      expect(report.minGemmFlopsPerShard.byShape['256×256']).toBeGreaterThanOrEqual(1);
      expect(report.references).toBeGreaterThanOrEqual(1); // the second eligible GEMM ran alone, as the reference
      expect(pool.shardedGemmCount).toBeGreaterThanOrEqual(1); // the first one at least was split
    } finally {
      await pool.dispose();
      await single.dispose();
    }
  });
});
