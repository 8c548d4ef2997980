// A real run where SharedArrayBuffer does not exist (as in an Android WebView or an Electron
// file:// page): the probe notices, createRuntime degrades a requested pool to the main thread
// and says so, and training still works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, IVON } from '../src/index.js';
import { EPSILON, GOLDEN, HYPER, THETA0, gradient } from './oracle/golden.js';
import { relClose } from './conformance/suite.js';

describe('no SharedArrayBuffer', () => {
  const saved = globalThis.SharedArrayBuffer;
  beforeAll(() => {
    delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
  });
  afterAll(() => {
    globalThis.SharedArrayBuffer = saved;
  });

  it('runs IVON on one thread and explains why the workers were not used', async () => {
    const rt = await createRuntime({ backend: ['wasm', 'js'], workers: 2 });
    const why = rt.explain();
    expect(why.probes.sharedMemory).toMatchObject({ available: false, sharedArrayBuffer: false });
    expect(rt.backend).toBe('wasm');
    expect(rt.workers).toBe(0);
    expect(why.reason).toMatch(/main thread only, because SharedArrayBuffer is unavailable/);
    const opt = new IVON(rt, { params: { w: Float32Array.from(THETA0) }, ...HYPER });
    for (let s = 0; s < GOLDEN.length; s++) {
      await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from(gradient(ctx.theta('w').slice()))), { epsilon: { w: Float32Array.from(EPSILON[s]) } });
      await opt.step();
    }
    relClose((await opt.read('w')).mean, GOLDEN[2].mean, 1e-5, 'mean after 3 steps');
    opt.dispose();
    await rt.dispose();
  });
});
