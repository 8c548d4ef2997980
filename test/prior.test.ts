// IVON's per-element prior (issue #12) on the CPU backends: the prior suite on js, wasm and the
// wasm worker pool (sharded: minElementsPerWorker 16), and one run that must give the same bits on
// all of them (js == wasm == wasm with workers).
import { describe, expect, it } from 'vitest';
import { JsBackend } from '../src/backends/js.js';
import { createRuntime, IVON, type Runtime } from '../src/index.js';
import { mulberry32 } from './conformance/helpers.js';
import { bits, definePriorSuite, PRIOR_KERNELS, priorArenaPair, stateBits } from './conformance/prior-suite.js';

async function pool(workers: number): Promise<Runtime> {
  const rt = await createRuntime({ backend: 'wasm', workers, minElementsPerWorker: 16 });
  if (rt.workers !== workers) throw new Error(`expected ${workers} workers, the runtime uses ${rt.workers}: ${rt.explain().reason}`);
  return rt;
}

definePriorSuite('js', () => createRuntime({ backend: 'js' }), { exact: true });
definePriorSuite('wasm', () => createRuntime({ backend: 'wasm' }), { exact: true });
definePriorSuite('wasm pool, 1 worker', () => pool(1), { exact: true });

describe('per-element prior across CPU backends', () => {
  it('every kernel that uses δ gives the JS reference bits on wasm and the pool, any start and tail', async () => {
    const js = new JsBackend();
    for (const make of [() => createRuntime({ backend: 'wasm' }), () => pool(2)]) {
      const rt = await make();
      try {
        for (const [name, run] of PRIOR_KERNELS) {
          for (const [start, count] of [[0, 333], [5, 200], [16, 1]]) {
            const pair = priorArenaPair(rt.compute, js, start, count);
            run(rt.compute, pair.arenas[0], pair.range);
            run(js, pair.arenas[1], pair.range);
            for (const role of pair.outputs) {
              const [got, want] = await pair.read(role);
              expect(bits(got), `${name} ${role} [${start}, +${count}) on ${rt.compute.description}`).toEqual(bits(want));
            }
            pair.dispose();
          }
        }
      } finally {
        await rt.dispose();
      }
    }
  });

  /** Ten steps on two groups with priors, one and three samples per step, then a prediction draw. */
  async function run(rt: Runtime, regenerateNoise: boolean) {
    const rng = mulberry32(31);
    const sizes = [301, 37];
    const values = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng());
    const a = values(sizes[0] + sizes[1], 0.5, 2);
    const opt = new IVON(rt, {
      groups: [
        { params: { w: values(sizes[0], -1, 1) }, lr: 0.1, ess: 50, weightDecay: 0.01, priorMean: { w: values(sizes[0], -1, 1) }, priorPrecision: { w: values(sizes[0], 0.01, 2) } },
        { params: { b: values(sizes[1], -1, 1) }, lr: 0.3, ess: 500, beta2: 0.9, priorPrecision: { b: values(sizes[1], 0.1, 1) } },
      ],
      seed: 1234,
      regenerateNoise,
    });
    for (let step = 0; step < 10; step++) {
      for (let s = 0; s < (step % 2 ? 3 : 1); s++) {
        await opt.sampledParams(async (ctx) => {
          ctx.setGrad('w', Float32Array.from(await ctx.readTheta('w'), (x, i) => a[i] * x - 0.3));
          ctx.setGrad('b', Float32Array.from(await ctx.readTheta('b'), (x, i) => a[sizes[0] + i] * x + 0.2));
        });
      }
      await opt.step();
    }
    const draw = await opt.sampledParams((ctx) => ctx.readTheta('w'), { train: false });
    const state = stateBits(await opt.snapshot());
    opt.dispose();
    return { state, draw: Array.from(draw) };
  }

  it('gives the same bits on js, wasm and wasm with 1 and 2 workers, the noise stored or regenerated', async () => {
    const results = [];
    for (const make of [() => createRuntime({ backend: 'js' }), () => createRuntime({ backend: 'wasm' }), () => pool(1), () => pool(2)]) {
      const rt = await make();
      try {
        for (const regenerateNoise of [false, true]) results.push(await run(rt, regenerateNoise));
      } finally {
        await rt.dispose();
      }
    }
    for (const r of results.slice(1)) {
      expect(r.state).toEqual(results[0].state);
      expect(r.draw).toEqual(results[0].draw);
    }
  });
});
