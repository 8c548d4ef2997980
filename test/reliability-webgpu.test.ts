// Issue #11 on WebGPU (Dawn over SwiftShader in Node; fails, never skips, without an adapter):
// item 8 — a device lost before the first block recovers, and snapshot / keepSnapshot / read /
// readTensors / saveState on a lost device reject with RecoveredError as the README promises,
// after which the optimizer continues on the replacement exactly like a twin restored from the
// same state; and item 1's random interleavings (150 schedules here: every call reads back from
// a software GPU, so fewer than the CPU backends' 1,000).
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../gpu/webgpu-backend.js';
import { JsBackend } from '../src/backends/js.js';
import { createRuntime, IVON, RecoveredError, type IvonOptions, type Runtime } from '../src/index.js';
import { checkSchedules } from './reliability-interleaving.js';
import { expectSameState, rejectionOf, trainBlock } from './reliability-helpers.js';

const WEBGPU_SCHEDULES = 150;
const options = (): IvonOptions => ({
  groups: [
    { params: { w: Float32Array.from({ length: 40 }, (_, i) => Math.sin(i)) }, lr: 0.05 },
    { params: { v: Float32Array.from({ length: 24 }, (_, i) => Math.cos(i)) }, lr: 0.02 },
  ],
  ess: 100,
  seed: 9,
});
const block = trainBlock(['w', 'v']);

async function trainSteps(opt: IVON, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    await opt.sampledParams(block);
    await opt.step();
  }
}

describe('webgpu reliability', () => {
  const runtimes: Runtime[] = [];
  afterAll(async () => {
    for (const rt of runtimes) await rt.dispose();
  });

  async function gpuRuntime(): Promise<Runtime> {
    const rt = await createRuntime({ backend: 'webgpu' });
    runtimes.push(rt);
    expect(rt.backend).toBe('webgpu');
    return rt;
  }

  async function loseDevice(rt: Runtime): Promise<void> {
    const backend = rt.compute as WebGpuBackend;
    backend.device.destroy();
    await backend.lost;
  }

  const recovering = () => ({ ...options(), recovery: { snapshotEvery: 100, replace: async () => new JsBackend() } });

  it('a device lost before the first block recovers from the initial state; the run equals a js twin bit for bit', async () => {
    const rt = await gpuRuntime();
    const opt = new IVON(rt, recovering());
    const twin = new IVON(await createRuntime({ backend: 'js' }), options());
    await loseDevice(rt);
    const error = await rejectionOf(opt.sampledParams(block));
    expect(error).toBeInstanceOf(RecoveredError);
    expect((error as RecoveredError).info).toMatchObject({ from: 'webgpu', to: 'js', lostAtStep: 0, restoredStep: 0 });
    expect(opt.currentBackend.kind).toBe('js');
    // Nothing ran on the GPU, so the recovered run is the js run from the start.
    await trainSteps(opt, 3);
    await trainSteps(twin, 3);
    await expectSameState(opt, twin);
  });

  const calls = {
    snapshot: (o: IVON) => o.snapshot(),
    keepSnapshot: (o: IVON) => o.keepSnapshot(),
    read: (o: IVON) => o.read('w'),
    readTensors: (o: IVON) => o.readTensors('v'),
    saveState: (o: IVON) => o.saveState(),
  };
  for (const [name, call] of Object.entries(calls)) {
    it(`${name}() on a lost device rejects with RecoveredError; the optimizer then continues like a twin restored from the kept state`, async () => {
      const rt = await gpuRuntime();
      const opt = new IVON(rt, recovering());
      await trainSteps(opt, 3);
      const kept = await opt.snapshot();
      await opt.keepSnapshot();
      await trainSteps(opt, 1); // step 4: lost with the device
      await loseDevice(rt);
      const error = await rejectionOf(call(opt));
      expect(error).toBeInstanceOf(RecoveredError);
      expect((error as RecoveredError).info).toMatchObject({ from: 'webgpu', to: 'js', lostAtStep: 4, restoredStep: 3 });
      expect(opt.stepCount).toBe(3);
      const twin = new IVON(await createRuntime({ backend: 'js' }), options());
      await twin.restore(kept);
      await expectSameState(opt, twin);
      await trainSteps(opt, 2);
      await trainSteps(twin, 2);
      await expectSameState(opt, twin);
    });
  }

  it(`${WEBGPU_SCHEDULES} random interleavings: every call's outcome equals the sequential run's, or is a documented error`, async () => {
    const rt = await gpuRuntime();
    const { calls, errors } = await checkSchedules(rt, WEBGPU_SCHEDULES, 5000);
    expect(calls).toBe(WEBGPU_SCHEDULES * 10);
    expect(Object.keys(errors).sort()).toEqual(['error:UsageError']);
  });
});
