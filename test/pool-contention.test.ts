// The pool on a busy device, for real. A busy process and a child running the pool are pinned to
// the same CPU (taskset), so whatever the machine's cores, the pool's worker and main thread never
// run at the same time and sharding cannot pay. The busy process runs at nice 19: a scheduler
// that shares CPU per thread then gives it almost nothing (were it at nice 0, two pool threads
// would take 2/3 of the core from it instead of 1/2, and sharding would "pay" by starving it); one
// that shares per session (autogroup) gives it half the core whatever the pool does. The child (fixtures/contention-run.ts) runs sharded ivonSample calls on 4M
// elements on an adaptive pool with 1 worker, a pool with a fixed threshold and the main thread
// alone. The adaptive pool must notice that its shards do not overlap and stop sharding —
// explain().sharding says so — and every result must stay bit-identical to the main thread alone.
// Speed is never asserted; decisions and bits are.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createPoolBackend } from '../src/backends/pool.js';
import { createWasmBackend, type WasmBackend } from '../src/backends/wasm.js';
import { createRuntime } from '../src/index.js';
import { WasmOps, type WasmNnHost } from '../src/nn/ops-wasm.js';
import type { ContentionReport } from '../src/scheduler/contention.js';
import { mulberry32 } from './conformance/helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/contention-run.ts', import.meta.url));
/** The pool needs 5 sharded calls to judge; more let the EWMA settle and a probe happen. */
const CALLS = 40;

/** The first CPU this process may run on (Linux: /proc/self/status). */
function firstAllowedCpu(): number {
  const line = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!line) throw new Error('pool-contention: /proc/self/status has no Cpus_allowed_list; this test needs Linux');
  return Number(line[1]);
}

/** The first element whose bits differ (-1: identical); toEqual on 4M elements takes minutes. */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

interface ChildReport {
  suspendedAt: number;
  atSuspension: ContentionReport | null;
  final: ContentionReport;
  fixed: ContentionReport;
  adaptiveShards: number;
  fixedShards: number;
  checks: Array<{ step: number; adaptive: number; fixed: number }>;
}

describe('worker pool under contention (a busy process on the same core)', () => {
  it('explain().sharding is null without a pool, and reports the defaults before any call', async () => {
    const single = await createRuntime({ backend: 'wasm', workers: 0 });
    const adaptive = await createRuntime({ backend: 'wasm', workers: 1 });
    const fixed = await createRuntime({ backend: 'wasm', workers: 1, minElementsPerWorker: 131_072 });
    try {
      expect(single.explain().sharding).toBeNull();
      const before = adaptive.explain().sharding!;
      expect(before).toMatchObject({ state: 'sharding', wakeJoinUs: null, speedup: null, shardedCalls: 0 });
      expect(before.minElementsPerShard.source).toBe('default');
      expect(fixed.explain().sharding!.minElementsPerShard).toEqual({ default: 131_072, byKernel: {}, source: 'option' });
      expect(adaptive.compute.description).toMatch(/shard thresholds measured at run time/);
    } finally {
      for (const rt of [single, adaptive, fixed]) await rt.dispose();
    }
  });

  it('stops sharding 4M-element ivonSample calls, says why, and the bits equal the main thread alone', async () => {
    const cpu = String(firstAllowedCpu());
    // In a session of its own, as another app's process would be.
    const busy: ChildProcess = spawn('nice', ['-n', '19', 'taskset', '-c', cpu, process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore', detached: true });
    let report: ChildReport;
    try {
      const { stdout } = await promisify(execFile)('taskset', ['-c', cpu, process.execPath, '--import', 'tsx', CHILD, String(CALLS)], {
        timeout: 150_000,
        maxBuffer: 1 << 20,
      });
      report = JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport;
    } finally {
      busy.kill('SIGKILL');
    }
    const { suspendedAt, atSuspension, final } = report;
    expect(suspendedAt, `never suspended; last report: ${JSON.stringify(final)}`).toBeGreaterThan(0);
    // When it stopped: at least 5 sharded calls judged, their speed-up below 1.05×, and the reason.
    const stopped = atSuspension!;
    expect(stopped.shardedCalls).toBeGreaterThanOrEqual(5);
    expect(stopped.speedup).toBeLessThan(1.05);
    expect(stopped.reason).toMatch(/^sharded calls ran at [0-9.]+× of one thread over the last 19 calls: the cores are busy \(another process\) or these calls are too short for the wake-up and join to pay/);
    expect(stopped.references).toBeGreaterThanOrEqual(1); // the second eligible call ran alone, as the one-thread reference
    // The wake-up cost comes only from calls whose shards overlapped: with none, the thresholds are the defaults.
    if (stopped.wakeJoinUs === null) expect(stopped.minElementsPerShard).toMatchObject({ default: 131_072, source: 'default' });
    else {
      expect(stopped.wakeJoinUs).toBeGreaterThanOrEqual(0);
      expect(stopped.minElementsPerShard.source).toBe('measured');
    }
    // At the end: suspended, on the main thread — or, should a probe have reached 1.2× by chance,
    // sharding again after that probe.
    if (final.state === 'suspended') {
      expect(final.reason).toMatch(/the cores are busy \(another process\) or these calls are too short for the wake-up and join to pay, so calls run on the main thread alone, re-probing/);
      expect(report.adaptiveShards).toBe(1);
    } else expect(final.probes).toBeGreaterThan(0);
    // The user's fixed threshold is obeyed whatever the contention: still two shards.
    expect(report.fixed.state).toBe('sharding');
    expect(report.fixed.minElementsPerShard.source).toBe('option');
    expect(report.fixedShards).toBe(2);
    // Bits: the first call, the call that suspended, the last; both pools against the main thread.
    expect(report.checks.map((c) => c.step)).toEqual([...new Set([1, suspendedAt, CALLS])]);
    for (const check of report.checks) expect(check, `step ${check.step}`).toEqual({ step: check.step, adaptive: -1, fixed: -1 });
  }, 180_000);
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
