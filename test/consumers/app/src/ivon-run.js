// The consumers' workload as a function of the library object, so an ES module app, a CommonJS
// program (require) and Deno run the very same steps: a small fixed IVON run (RNG noise, 1000
// elements so shards are uneven, 4 steps of 2 MC samples) whose every bit is returned, so the
// tests can compare browsers, bundlers, thread counts and Node exactly.

const hex = (values) => Array.from(new Uint32Array(Float32Array.from(values).buffer), (u) => u.toString(16).padStart(8, '0')).join('');

/**
 * @param {{ createRuntime: Function, IVON: any }} lib the ivon-edge module
 * @param {{ workers: number | 'auto', workerUrl?: string }} options
 */
export async function ivonRun(lib, options) {
  const rt = await lib.createRuntime({ backend: 'wasm', workers: options.workers, minElementsPerWorker: 16, workerUrl: options.workerUrl });
  const n = 1000;
  const init = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 0.5);
  const opt = new lib.IVON(rt, { params: { w: init }, lr: 0.05, ess: 500, beta2: 0.99, seed: 11, mcSamples: 2 });
  for (let step = 0; step < 4; step++) {
    for (let s = 0; s < 2; s++) {
      await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from(ctx.theta('w'), (x, i) => (1 + (i % 7)) * x - 0.2)));
    }
    await opt.step();
  }
  const state = await opt.read('w');
  const why = rt.explain();
  const result = { workers: rt.workers, description: why.description, warnings: why.warnings, mean: hex(state.mean), hess: hex(state.hess) };
  opt.dispose();
  await rt.dispose();
  return result;
}
