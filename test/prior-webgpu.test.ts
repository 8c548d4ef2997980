// IVON's per-element prior (issue #12) on WebGPU (Dawn over SwiftShader here): the prior suite
// held to float32 rounding, and the prior variant of every kernel that uses δ against the JS
// reference within a few ulp. No skip: without an adapter createRuntime throws and these fail.
import { describe, expect, it } from 'vitest';
import { JsBackend } from '../src/backends/js.js';
import type { WebGpuBackend } from '../gpu/webgpu-backend.js';
import { createRuntime, IVON, RecoveredError } from '../src/index.js';
import { definePriorSuite, PRIOR_KERNELS, priorArenaPair } from './conformance/prior-suite.js';

definePriorSuite('webgpu', () => createRuntime({ backend: 'webgpu' }), { exact: false });

/** |a − b| in units of the float32 spacing at b (ulp). */
function ulps(a: number, b: number): number {
  const spacing = Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.max(Math.abs(b), 2 ** -126))) - 23));
  return Math.abs(a - b) / spacing;
}

describe('per-element prior kernels: webgpu against the JS reference', () => {
  it('read δ_j and μ_j per element (within 8 ulp of the reference)', async () => {
    const rt = await createRuntime({ backend: 'webgpu' });
    const js = new JsBackend();
    try {
      for (const [name, run] of PRIOR_KERNELS) {
        // The GPU kernels need ranges starting at a multiple of 16; 333 leaves a partial vec4.
        const pair = priorArenaPair(rt.compute, js, 16, 333);
        run(rt.compute, pair.arenas[0], pair.range);
        run(js, pair.arenas[1], pair.range);
        for (const role of pair.outputs) {
          const [got, want] = await pair.read(role);
          let worst = 0;
          for (let i = 0; i < got.length; i++) worst = Math.max(worst, ulps(got[i], want[i]));
          expect(worst, `${name} ${role}`).toBeLessThanOrEqual(8);
        }
        pair.dispose();
      }
    } finally {
      await rt.dispose();
    }
  });
});

describe('per-element prior and device loss', () => {
  it('a failover after setPrior keeps the prior (the recovery snapshot is retaken)', async () => {
    const rt = await createRuntime({ backend: 'webgpu' });
    const n = 24;
    const opt = new IVON(rt, {
      params: { w: new Float32Array(n).fill(0.3) },
      lr: 0.05,
      ess: 100,
      seed: 3,
      recovery: { snapshotEvery: 2, replace: async () => new JsBackend() },
    });
    const train = async () => {
      await opt.sampledParams(async (ctx) => ctx.setGrad('w', Float32Array.from(await ctx.readTheta('w'), (x) => 2 * x - 1)));
      await opt.step();
    };
    for (let i = 0; i < 2; i++) await train(); // a recovery snapshot of step 2, without a prior
    const mean = Float32Array.from({ length: n }, (_, i) => i / n);
    const precision = Float32Array.from({ length: n }, (_, i) => 0.5 + i);
    await opt.setPrior({ mean: { w: mean }, precision: { w: precision } });
    (rt.compute as WebGpuBackend).device.destroy();
    const error = await train().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveredError);
    expect(opt.currentBackend.kind).toBe('js');
    expect(opt.perElementPrior).toBe(true);
    const state = await opt.read('w');
    expect(Array.from(state.priorMean)).toEqual(Array.from(mean));
    expect(Array.from(state.priorPrecision)).toEqual(Array.from(precision));
    await train();
    opt.dispose();
    await rt.dispose();
  });

  it('a failover before any snapshot keeps the prior given as options', async () => {
    const rt = await createRuntime({ backend: 'webgpu' });
    const n = 20;
    const mean = Float32Array.from({ length: n }, (_, i) => 1 - i / n);
    const precision = Float32Array.from({ length: n }, (_, i) => 0.25 + i);
    const opt = new IVON(rt, {
      params: { w: new Float32Array(n) },
      lr: 0.05,
      ess: 100,
      priorMean: { w: mean },
      priorPrecision: { w: precision },
      recovery: { snapshotEvery: 100, replace: async () => new JsBackend() },
    });
    (rt.compute as WebGpuBackend).device.destroy();
    const error = await opt.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(n))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveredError);
    const state = await opt.read('w');
    expect(Array.from(state.priorMean)).toEqual(Array.from(mean));
    expect(Array.from(state.priorPrecision)).toEqual(Array.from(precision));
    opt.dispose();
    await rt.dispose();
  });
});
