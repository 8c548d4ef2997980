// A worker that is woken but not scheduled (another process holds its core, or its wake-up is slow)
// must never make the calling thread wait: once its own shard is done, the calling thread claims
// every shard a worker has not started and runs it itself (workers/protocol.js claimShard). These
// tests make a worker late on purpose (the 'late' test fault: it sleeps before claiming each op)
// and check, against a single-thread twin, bit for bit:
//  - an in-place kernel and an accumulating GEMM whose worker shard was taken over;
//  - that the late worker, when it finally wakes, skips the op (no second application);
//  - that the pool gives it work again once it has acknowledged (and, late again, takes it over again);
//  - that fixed thresholds never take over (they ask for the workers, whatever it costs).
import { afterEach, describe, expect, it } from 'vitest';
import type { AdamwUpdateArgs, Arena, Backend, Range, Role } from '../src/backend.js';
import { createPoolBackend, type PoolBackend } from '../src/backends/pool.js';
import { createWasmBackend, type WasmBackend } from '../src/backends/wasm.js';
import { WasmOps, type WasmNnHost } from '../src/nn/ops-wasm.js';
import { mulberry32 } from './conformance/helpers.js';

/** Two shards of the default 131 072-element threshold. */
const N = 2 * 131_072;
const ALL: Range = { start: 0, count: N };
const ROLES: Role[] = ['mean', 'grad', 'momentum', 'expAvgSq'];
const LATE_MS = 150;
const ADAMW: AdamwUpdateArgs = { stepSize: 0.01, decayFactor: 0.999, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99, oneMinusBeta2: 0.01, eps: 1e-8, invBiasCorrection2Sqrt: 3.3 };

function filledArena(backend: Backend): Arena {
  const rng = mulberry32(7);
  const arena = backend.createArena(N, ROLES);
  for (const role of ROLES) backend.write(arena, role, 0, Float32Array.from({ length: N }, () => (role === 'expAvgSq' ? rng() : rng() - 0.5)));
  return arena;
}

/** Per role, the first element whose bits differ between the two arenas (-1: identical; toEqual on 256K elements is slow). */
async function differences(x: Backend, a: Arena, y: Backend, b: Arena): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const role of ROLES) {
    const [u, v] = [new Uint32Array((await x.read(a, role, ALL)).buffer), new Uint32Array((await y.read(b, role, ALL)).buffer)];
    out[role] = u.findIndex((value, i) => value !== v[i]);
  }
  return out;
}
const SAME = Object.fromEntries(ROLES.map((role) => [role, -1]));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a late worker: the calling thread takes its shard over', () => {
  const open: Array<PoolBackend | WasmBackend> = [];
  afterEach(async () => {
    for (const b of open.splice(0)) await b.dispose();
  });

  /** A 1-worker pool whose worker is late, a single-thread twin, and one filled arena on each. */
  async function lateTwins() {
    const pool = await createPoolBackend({ workers: 1 });
    const single = await createWasmBackend();
    open.push(pool, single);
    await pool.injectFault(0, { kind: 'late', afterChunks: 0, lateMs: LATE_MS });
    return { pool, single, a: filledArena(pool), b: filledArena(single) };
  }

  /** `times` adamwUpdate calls on both twins, each waited for. */
  async function update(t: { pool: PoolBackend; single: WasmBackend; a: Arena; b: Arena }, times: number) {
    for (let i = 0; i < times; i++) {
      t.pool.adamwUpdate(t.a, ALL, ADAMW);
      t.single.adamwUpdate(t.b, ALL, ADAMW);
      await t.pool.flush();
    }
  }

  it('adamwUpdate: the taken-over call, and the late worker skipping it when it wakes, leave the one-thread bits; once it has acknowledged, it gets work again', async () => {
    const twins = await lateTwins();
    const { pool, single, a, b } = twins;
    // Call 1 shards and the late worker's shard is taken over; calls 2 and 3 run on the calling
    // thread alone, since the worker still owes the acknowledgement of call 1.
    await update(twins, 3);
    expect(pool.contentionReport()).toMatchObject({ shardedCalls: 1, takenOver: 1 });
    // The worker wakes after LATE_MS, finds its shard taken and acknowledges it without running it.
    await sleep(2 * LATE_MS);
    expect(await differences(pool, a, single, b)).toEqual(SAME);
    // Acknowledged: it is offered work again. The next eligible call is the gate's one-thread
    // reference (the second of this kernel and size); the one after shards onto the worker, which,
    // late again, is taken over again.
    await update(twins, 2);
    expect(pool.contentionReport()).toMatchObject({ shardedCalls: 2, takenOver: 2, references: 1 });
    await sleep(2 * LATE_MS);
    expect(await differences(pool, a, single, b)).toEqual(SAME);
  });

  it('a late worker that wakes after another op was signalled to it does not run the op it lost', async () => {
    const twins = await lateTwins();
    const { pool, single, a, b } = twins;
    await update(twins, 1);
    expect(pool.contentionReport().takenOver).toBe(1);
    // While the worker still sleeps on that op, the pool signals it a control op (configure: pause
    // and resume). Woken, the worker's claim for the old op must fail — not succeed on the new op's number.
    await pool.injectFault(0, { kind: 'late', afterChunks: 0, lateMs: LATE_MS });
    await sleep(2 * LATE_MS);
    expect(await differences(pool, a, single, b)).toEqual(SAME);
  });

  it('a worker that never acknowledges a taken-over op within workerTimeoutMs is replaced, and its replacement takes shards again', async () => {
    const pool = await createPoolBackend({ workers: 1, workerTimeoutMs: 300 });
    const single = await createWasmBackend();
    open.push(pool, single);
    const twins = { pool, single, a: filledArena(pool), b: filledArena(single) };
    await pool.injectFault(0, { kind: 'late', afterChunks: 0, lateMs: 60_000 }); // asleep for the rest of the test
    await update(twins, 1);
    expect(pool.contentionReport().takenOver).toBe(1);
    expect(pool.shardsFor(N)).toBe(1); // it owes the acknowledgement: no work for it
    await sleep(400);
    expect(pool.shardsFor(N)).toBe(1); // past the timeout: found hung, a replacement is starting
    await pool.flush();
    expect(pool.shardsFor(N)).toBe(2);
    await update(twins, 2);
    expect(await differences(pool, twins.a, single, twins.b)).toEqual(SAME);
  });

  it('an accumulating GEMM (C += A·B) whose worker rows were taken over equals one thread; so does the next after the late worker skipped its rows', async () => {
    const pool = await createPoolBackend({ workers: 1 });
    const single = await createWasmBackend();
    open.push(pool, single);
    await pool.injectFault(0, { kind: 'late', afterChunks: 0, lateMs: LATE_MS });
    const product = (backend: WasmBackend) => {
      const ops = new WasmOps(backend.nnHost() as unknown as WasmNnHost);
      const rng = mulberry32(3);
      const blocks = [ops.alloc(256 * 256), ops.alloc(256 * 256), ops.alloc(256 * 256)]; // views after every alloc: growing detaches
      for (const block of blocks) block.view().set(Float32Array.from({ length: 256 * 256 }, () => 2 * rng() - 1));
      // 256×256·256: 33.5 Mflop, split in two by the 4 Mflop default.
      const run = () => {
        const [a, b, c] = blocks.map((block) => block.view());
        ops.gemm({ transA: false, transB: false, m: 256, n: 256, k: 256, a, b, c, accumulate: true, lda: 256, ldb: 256, ldc: 256 });
      };
      return { run, result: () => new Uint32Array(blocks[2].view().slice().buffer) };
    };
    const [p, s] = [product(pool), product(single)];
    p.run();
    s.run();
    expect(pool.contentionReport()).toMatchObject({ shardedCalls: 1, takenOver: 1 });
    const firstDifference = () => {
      const [u, v] = [p.result(), s.result()];
      return u.findIndex((value, i) => value !== v[i]);
    };
    expect(firstDifference()).toBe(-1);
    await sleep(2 * LATE_MS);
    expect(firstDifference()).toBe(-1); // the late worker did not add its rows a second time
  });

  it('fixed thresholds never take over: the late worker runs its shard and the call waits for it', async () => {
    const pool = await createPoolBackend({ workers: 1, minElementsPerWorker: 131_072 });
    const single = await createWasmBackend();
    open.push(pool, single);
    const [a, b] = [filledArena(pool), filledArena(single)];
    await pool.injectFault(0, { kind: 'late', afterChunks: 0, lateMs: 50 });
    const t0 = performance.now();
    pool.adamwUpdate(a, ALL, ADAMW);
    single.adamwUpdate(b, ALL, ADAMW);
    await pool.flush();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45); // it waited for the late worker
    expect(await differences(pool, a, single, b)).toEqual(SAME);
  });
});
