// Sharding changes nothing: every element-wise kernel run over 1, 2 and 3 workers (plus the main
// thread) gives the same bits as the single-thread wasm backend and the TypeScript reference, at
// sizes that split unevenly and with ranges that start inside the arena.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arena, Backend, IvonUpdateArgs, Range, Role } from '../src/backend.js';
import { JsBackend } from '../src/backends/js.js';
import { createPoolBackend, type PoolBackend } from '../src/backends/pool.js';
import { createWasmBackend } from '../src/backends/wasm.js';
import { mulberry32 } from './conformance/helpers.js';

const ROLES: Role[] = ['mean', 'hess', 'momentum', 'expAvgSq', 'theta', 'grad', 'noise', 'gradMean', 'curvMean'];
const UPDATE: IvonUpdateArgs = {
  hessApprox: 'price', ess: 300, weightDecay: 1e-3, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 1e-3,
  curvCoef: 5e-7, invDebias: 1 / 0.19, alpha: 0.05, clipRadius: 0.3,
};

/** Runs a fixed program of every kernel on `backend`; returns every role's bits and the counts. */
async function program(backend: Backend, length: number, range: Range): Promise<{ bits: Map<Role, Uint32Array>; counts: number[] }> {
  const rng = mulberry32(length);
  const arena: Arena = backend.createArena(length, ROLES);
  const init = (role: Role, f: () => number) => backend.write(arena, role, 0, Float32Array.from({ length }, f));
  init('mean', () => rng() - 0.5);
  init('hess', () => 0.5 + rng());
  init('momentum', () => 0.1 * (rng() - 0.5));
  init('expAvgSq', () => 0.01 * rng());
  const counts: number[] = [];
  backend.ivonSample(arena, range, { sample: 1, step: 4, stream: 0, seedLo: 12345, seedHi: 6, ess: UPDATE.ess, weightDecay: UPDATE.weightDecay });
  await backend.flush();
  init('grad', () => 2 * rng() - 1);
  counts.push(await backend.countNonFinite(arena, 'grad', range));
  backend.ivonUpdateFused(arena, range, UPDATE);
  backend.fill(arena, 'gradMean', range, 0);
  backend.fill(arena, 'curvMean', range, 0);
  backend.ivonAccumulate(arena, range, 1, 'price');
  backend.ivonAccumulate(arena, range, 2, 'gradsq');
  backend.ivonUpdate(arena, range, { ...UPDATE, hessApprox: 'gradsq' });
  backend.copy(arena, 'noise', 'grad', range);
  backend.ivonSampleGiven(arena, range, 50, 0.01);
  backend.adamwUpdate(arena, range, { stepSize: 0.01, decayFactor: 0.999, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99, oneMinusBeta2: 0.01, eps: 1e-8, invBiasCorrection2Sqrt: 3.3 });
  backend.sgdUpdate(arena, range, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  await backend.flush();
  backend.write(arena, 'grad', range.start + 3, Float32Array.of(NaN, Infinity, -Infinity));
  backend.write(arena, 'grad', range.start + range.count - 1, Float32Array.of(NaN));
  counts.push(await backend.countNonFinite(arena, 'grad', range));
  const bits = new Map<Role, Uint32Array>();
  for (const role of ROLES) bits.set(role, new Uint32Array((await backend.read(arena, role, { start: 0, count: length })).buffer));
  backend.destroyArena(arena);
  return { bits, counts };
}

const CASES: Array<{ length: number; range: Range }> = [
  { length: 1000, range: { start: 0, count: 1000 } },
  { length: 4099, range: { start: 64, count: 4035 } },
  { length: 20000, range: { start: 16, count: 19977 } },
];

describe('worker pool: bit identity with one thread', () => {
  const pools = new Map<number, PoolBackend>();
  let single: Backend;
  beforeAll(async () => {
    single = await createWasmBackend();
    for (const workers of [1, 2, 3]) pools.set(workers, await createPoolBackend({ workers, minElementsPerWorker: 64 }));
  });
  afterAll(async () => {
    await single?.dispose();
    for (const pool of pools.values()) await pool.dispose();
  });

  for (const { length, range } of CASES) {
    it(`every kernel over [${range.start}, +${range.count}) of ${length}: 1..3 workers = wasm = js`, async () => {
      const reference = await program(new JsBackend(), length, range);
      const results = [await program(single, length, range)];
      for (const [workers, pool] of pools) {
        expect(pool.shardsFor(range.count)).toBe(Math.min(workers + 1, Math.floor(range.count / 64)));
        results.push(await program(pool, length, range));
      }
      expect(reference.counts).toEqual([0, 4]);
      for (const result of results) {
        expect(result.counts).toEqual(reference.counts);
        for (const role of ROLES) {
          const got = result.bits.get(role)!;
          const want = reference.bits.get(role)!;
          const firstDiff = got.findIndex((x, i) => x !== want[i]);
          expect(firstDiff, `${role} differs at ${firstDiff}`).toBe(-1);
        }
      }
    });
  }
});
