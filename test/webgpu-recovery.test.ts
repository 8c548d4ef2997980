// Device loss loses nothing: the optimizer keeps asynchronous snapshots on the GPU backend; when
// the device is destroyed mid-run the interrupted call rejects with RecoveredError, the optimizer
// continues on a replacement backend from the last snapshot, and the run ends where an
// uninterrupted run (replaying the lost steps) ends.
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime, IVON, RecoveredError, type RecoveryInfo } from '../src/index.js';
import { JsBackend } from '../src/backends/js.js';
import type { WebGpuBackend } from '../gpu/webgpu-backend.js';

const a = Array.from({ length: 40 }, (_, i) => 0.5 + (i % 5));
const b = Array.from({ length: 40 }, (_, i) => (i % 3) - 1);

async function trainStep(opt: IVON): Promise<void> {
  await opt.sampledParams(async (ctx) => {
    const theta = await ctx.readTheta('w');
    ctx.setGrad('w', Float32Array.from(theta, (x, i) => a[i] * x + b[i]));
  });
  await opt.step();
}

describe('webgpu device loss', () => {
  const runtimes: { dispose(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const rt of runtimes) await rt.dispose();
  });

  it('fails over to another backend from the last snapshot and says so', async () => {
    const rt = await createRuntime({ backend: 'webgpu' });
    runtimes.push(rt);
    expect(rt.backend).toBe('webgpu');
    const events: RecoveryInfo[] = [];
    const options = { params: { w: new Float32Array(40).fill(0.2) }, lr: 0.05, ess: 100, seed: 9 };
    const opt = new IVON(rt, {
      ...options,
      recovery: { snapshotEvery: 4, replace: async () => new JsBackend() },
      onRecover: (info) => events.push(info),
    });
    for (let i = 0; i < 6; i++) await trainStep(opt);
    await opt.keepSnapshot(); // on demand: step 6 is now safe
    await trainStep(opt); // step 7, not in any snapshot
    (rt.compute as WebGpuBackend).device.destroy();
    const error = await trainStep(opt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveredError);
    expect((error as Error).message).toMatch(/now runs on js .* from the snapshot of step 6 \(lost 1 step/);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ from: 'webgpu', to: 'js', lostAtStep: 7, restoredStep: 6 });
    expect(opt.currentBackend.kind).toBe('js');
    expect(opt.stepCount).toBe(6);
    // Continue: replay to 10 steps and compare with an uninterrupted run on js.
    for (let i = 6; i < 10; i++) await trainStep(opt);
    const reference = new IVON(await createRuntime({ backend: 'js' }), options);
    for (let i = 0; i < 10; i++) await trainStep(reference);
    const got = await opt.read('w');
    const want = await reference.read('w');
    for (let i = 0; i < 40; i++) {
      expect(Math.abs(got.mean[i] - want.mean[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want.mean[i])));
      expect(Math.abs(got.hess[i] - want.hess[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want.hess[i])));
    }
  });
});
