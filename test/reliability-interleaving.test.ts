// Random interleavings of the optimizer's public async API on js and on wasm with a worker
// (test/reliability-interleaving.ts says what is compared): 1,000 schedules each. WebGPU runs
// the same check (fewer schedules: a readback per call on a software adapter) in
// reliability-webgpu.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../src/index.js';
import { checkSchedules } from './reliability-interleaving.js';

const SCHEDULES = 1000;

describe.each([
  ['js', { backend: 'js' as const }],
  // minElementsPerWorker 16: every group's kernels are split over the worker and the main thread.
  ['wasm, 1 worker', { backend: 'wasm' as const, workers: 1, minElementsPerWorker: 16 }],
])('random interleavings of block/step/snapshot/restore/saveState/dispose (%s)', (_name, runtimeOptions) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime(runtimeOptions);
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  it(`${SCHEDULES} schedules: every call's outcome equals the sequential run's, or is a documented error`, async () => {
    const { calls, errors } = await checkSchedules(rt, SCHEDULES, 1);
    expect(calls).toBe(SCHEDULES * 10);
    // The schedules do reach the documented errors (nested calls, step without a block, use after dispose).
    expect(Object.keys(errors).sort()).toEqual(['error:UsageError']);
  });
});
