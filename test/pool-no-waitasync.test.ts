// Platforms without Atomics.waitAsync (older Safari, some webviews): the pool's main thread polls
// the control block instead, says so in explain(), and still gives the single-thread bits.
import { describe, expect, it } from 'vitest';
import { createRuntime, IVON, type Runtime } from '../src/index.js';

async function train(rt: Runtime): Promise<Float32Array> {
  const n = 10_000;
  const opt = new IVON(rt, { params: { w: new Float32Array(n).fill(0.3) }, lr: 0.1, ess: 500, seed: 21 });
  for (let s = 0; s < 3; s++) {
    await opt.sampledParams((ctx) => {
      const t = ctx.theta('w');
      const g = ctx.grad('w');
      for (let i = 0; i < n; i++) g[i] = (1 + (i % 3)) * t[i] - 0.2;
    });
    await opt.step();
  }
  const { mean } = await opt.read('w');
  opt.dispose();
  return mean;
}

describe('worker pool without Atomics.waitAsync', () => {
  it('polls, explains it, and matches the single-thread run bit for bit', async () => {
    const single = await createRuntime({ backend: 'wasm', workers: 0 });
    const want = await train(single);
    await single.dispose();
    const atomics = Atomics as unknown as { waitAsync?: unknown };
    const saved = atomics.waitAsync;
    delete atomics.waitAsync;
    try {
      const rt = await createRuntime({ backend: 'wasm', workers: 1, minElementsPerWorker: 1024 });
      expect(rt.workers).toBe(1);
      expect(rt.explain().reason).toMatch(/no Atomics\.waitAsync, the main thread polls/);
      expect(Array.from(await train(rt))).toEqual(Array.from(want));
      await rt.dispose();
    } finally {
      atomics.waitAsync = saved;
    }
  });
});
