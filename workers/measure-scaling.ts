// Dev script (not shipped): how the worker pool scales on this machine, for the numbers behind
// DEFAULT_MIN_ELEMENTS_PER_WORKER (src/scheduler/defaults.ts). Run: npx tsx workers/measure-scaling.ts
// Prints median milliseconds: the sample kernel (compute-bound), the whole IVON step (sample,
// non-finite check, fused update: memory-bound) and the fixed cost of a sharded call.

import { parseArgs } from 'node:util';
import type { Backend, IvonUpdateArgs, Role } from '../src/backend.js';
import { createPoolBackend } from '../src/backends/pool.js';
import { createWasmBackend } from '../src/backends/wasm.js';

const ROLES: Role[] = ['mean', 'hess', 'momentum', 'theta', 'grad', 'noise', 'gradMean', 'curvMean'];
const UPDATE: IvonUpdateArgs = {
  hessApprox: 'price', ess: 1e4, weightDecay: 1e-4, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.99999, oneMinusBeta2: 1e-5,
  curvCoef: 5e-11, invDebias: 10, alpha: 0.01, clipRadius: Infinity,
};

async function median(repeats: number, fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function measure(backend: Backend, n: number): Promise<{ sample: number; step: number }> {
  const arena = backend.createArena(n, ROLES);
  const all = { start: 0, count: n };
  backend.fill(arena, 'hess', all, 1);
  backend.fill(arena, 'grad', all, 0.5);
  let step = 0;
  const repeats = Math.max(5, Math.min(200, Math.round(2e7 / n)));
  const sample = await median(repeats, async () => {
    backend.ivonSample(arena, all, { sample: 0, step: step++, stream: 0, seedLo: 1, seedHi: 0, ess: 1e4, weightDecay: 1e-4 });
    await backend.flush();
  });
  const whole = await median(repeats, async () => {
    backend.ivonSample(arena, all, { sample: 0, step: step++, stream: 0, seedLo: 1, seedHi: 0, ess: 1e4, weightDecay: 1e-4 });
    await backend.flush();
    await backend.countNonFinite(arena, 'grad', all);
    backend.ivonUpdateFused(arena, all, UPDATE);
    await backend.flush();
  });
  backend.destroyArena(arena);
  return { sample, step: whole };
}

// Dawn's pending promises do not keep Node's event loop alive; this does, until process.exit.
const keepAlive = setInterval(() => {}, 1000);
const { values: args } = parseArgs({
  options: { workers: { type: 'string', default: '1' }, sizes: { type: 'string', default: '16384,65536,262144,1048576,4194304' }, gpu: { type: 'boolean', default: false } },
  strict: true,
});
const workerCounts = args.workers.split(',').map(Number);
const withGpu = args.gpu;
const sizes = args.sizes.split(',').map(Number);
const f = (x: number) => x.toFixed(3);
console.log(`cores: ${(await import('node:os')).availableParallelism()}; node ${process.version}`);

const single = await createWasmBackend({ maximumBytes: 2 ** 31 });
const base = new Map<number, { sample: number; step: number }>();
for (const n of sizes) base.set(n, await measure(single, n));

// Scaling: N workers + the main thread, always sharded (minElementsPerWorker 1024) and as 'auto' shards (default).
for (const workers of workerCounts) {
  const always = await createPoolBackend({ workers, minElementsPerWorker: 1024, maximumBytes: 2 ** 31 });
  const auto = await createPoolBackend({ workers, maximumBytes: 2 ** 31 });
  console.log(`\n${workers} worker(s) + main thread (${workers + 1} threads) vs 1 thread — median ms (speed-up)`);
  console.log('n | 1 thread sample | pool sample | 1 thread step | pool step, always sharded | pool step, default minElementsPerWorker');
  for (const n of sizes) {
    const a = base.get(n)!;
    const c = await measure(always, n);
    const d = await measure(auto, n);
    console.log(`${n} | ${f(a.sample)} | ${f(c.sample)} (${(a.sample / c.sample).toFixed(2)}x) | ${f(a.step)} | ${f(c.step)} (${(a.step / c.step).toFixed(2)}x) | ${f(d.step)} (${(a.step / d.step).toFixed(2)}x)`);
  }
  // Fixed cost of one sharded call: a small fused update split over every thread vs inline.
  const small = 1024 * (workers + 1);
  for (const [label, backend] of [['inline', single], ['sharded', always]] as const) {
    const arena = backend.createArena(small, ROLES);
    const all = { start: 0, count: small };
    backend.fill(arena, 'hess', all, 1);
    const ms = await median(2000, async () => {
      backend.ivonUpdateFused(arena, all, UPDATE);
      await backend.flush();
    });
    console.log(`fixed cost: ${small}-element fused update, ${label}: ${(ms * 1000).toFixed(1)} µs per call`);
    backend.destroyArena(arena);
  }
  await always.dispose();
  await auto.dispose();
}

if (withGpu) {
  const { createRuntime } = await import('../src/runtime.js');
  const rt = await createRuntime({ backend: 'webgpu' });
  console.log(`\nWebGPU: ${rt.compute.description}`);
  console.log('n | 1 thread wasm step | webgpu step (sample+flush, countNonFinite readback, update+flush)');
  for (const n of sizes) {
    const g = await measure(rt.compute, n);
    console.log(`${n} | ${f(base.get(n)!.step)} | ${f(g.step)}`);
  }
  await rt.dispose();
}
await single.dispose();
clearInterval(keepAlive);
process.exit(0);
