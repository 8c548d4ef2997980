// The training program the browser pool test runs both in a Chromium page and in Node: IVON with
// RNG noise (no injected ε) for a few steps on a 1000-element quadratic, so any difference in
// sharding or environment would show in the bits of the result.
import { createRuntime, IVON, type RuntimeOptions } from '../../src/index.js';

export interface ProgramResult {
  backend: string;
  workers: number;
  description: string;
  reason: string;
  mean: number[];
  hess: number[];
}

export async function trainProgram(options: RuntimeOptions): Promise<ProgramResult> {
  const rt = await createRuntime(options);
  const n = 1000; // 1000 / 16 does not divide evenly into shards
  const init = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 0.5);
  const opt = new IVON(rt, { params: { w: init }, lr: 0.05, ess: 500, beta2: 0.99, seed: 11, mcSamples: 2 });
  for (let step = 0; step < 4; step++) {
    for (let s = 0; s < 2; s++) {
      await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from(ctx.theta('w'), (x, i) => (1 + (i % 7)) * x - 0.2)));
    }
    await opt.step();
  }
  const state = await opt.read('w');
  const why = rt.explain();
  const result = { backend: rt.backend, workers: rt.workers, description: why.description, reason: why.reason, mean: [...state.mean], hess: [...state.hess] };
  opt.dispose();
  await rt.dispose();
  return result;
}
