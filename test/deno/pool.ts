// Deno run of the worker pool: the runtime shards IVON over Deno Web Workers on one shared
// WebAssembly.Memory, and the result must equal the single-thread run bit for bit. Prints JSON.
import { createRuntime, IVON } from '../../src/index.js';

async function train(workers: number): Promise<{ backend: string; workers: number; mean: number[]; hess: number[] }> {
  const rt = await createRuntime({ backend: 'wasm', workers, minElementsPerWorker: 1024 });
  const n = 10_000;
  const opt = new IVON(rt, { params: { w: new Float32Array(n).fill(0.3) }, lr: 0.1, ess: 500, seed: 21 });
  for (let step = 0; step < 3; step++) {
    await opt.sampledParams((ctx) => {
      const t = ctx.theta('w');
      const g = ctx.grad('w');
      for (let i = 0; i < n; i++) g[i] = (1 + (i % 3)) * t[i] - 0.2;
    });
    await opt.step();
  }
  const s = await opt.read('w');
  const out = { backend: rt.backend, workers: rt.workers, mean: Array.from(s.mean.subarray(0, 64)), hess: Array.from(s.hess.subarray(0, 64)) };
  await rt.dispose();
  return out;
}

try {
  const one = await train(0);
  const pooled = await train(1);
  const same = JSON.stringify(one.mean) === JSON.stringify(pooled.mean) && JSON.stringify(one.hess) === JSON.stringify(pooled.hess);
  console.log(JSON.stringify({ ok: true, pooledWorkers: pooled.workers, backend: pooled.backend, same, mean0: pooled.mean[0] }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String((error as Error)?.stack ?? error) }));
}
