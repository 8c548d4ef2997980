// createRuntime end to end: real probes on this machine, explain(), simulated platforms steering
// the choice, the error that lists every refusal, and option validation.
import { describe, expect, it } from 'vitest';
import { ConfigError, createRuntime, IVON, WorkerStartError } from '../src/index.js';
import { NoBackendError } from '../src/scheduler/errors.js';
import { probeWasm, type PlatformProbe } from '../src/scheduler/probe.js';
import { EPSILON, GOLDEN, HYPER, THETA0, gradient } from './oracle/golden.js';
import { relClose } from './conformance/suite.js';

const NODE_NO_GPU = (sharedMemory: boolean): PlatformProbe => ({
  environment: 'node',
  cores: 4,
  webgpu: { available: false, reason: 'simulated: no adapter' },
  wasm: { available: true, simd: true },
  sharedMemory: sharedMemory
    ? { available: true, sharedArrayBuffer: true, crossOriginIsolated: null, sharedWasmMemory: true, atomicsWaitAsync: true, workers: true }
    : { available: false, sharedArrayBuffer: false, crossOriginIsolated: null, sharedWasmMemory: false, atomicsWaitAsync: true, workers: true, reason: 'simulated: SharedArrayBuffer is unavailable here' },
});

async function goldenStep1(rt: Awaited<ReturnType<typeof createRuntime>>): Promise<void> {
  const opt = new IVON(rt, { params: { w: Float32Array.from(THETA0) }, ...HYPER });
  await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from(gradient(ctx.theta('w').slice()))), { epsilon: { w: Float32Array.from(EPSILON[0]) } });
  await opt.step();
  relClose((await opt.read('w')).mean, GOLDEN[0].mean, 1e-5, 'mean');
  opt.dispose();
}

describe('createRuntime', () => {
  it('probes this machine: WASM SIMD, shared memory and cores are found, and explain() reports them', async () => {
    expect(probeWasm()).toEqual({ available: true, simd: true });
    const rt = await createRuntime({ backend: ['wasm', 'js'], workers: 'auto' });
    const why = rt.explain();
    expect(why.probes.environment).toBe('node');
    expect(why.probes.cores).toBeGreaterThanOrEqual(1);
    expect(why.probes.sharedMemory).toMatchObject({ available: true, sharedArrayBuffer: true, sharedWasmMemory: true });
    expect(why.probes.webgpu.reason).toMatch(/not probed/);
    expect(why.chosen).toBe('wasm');
    expect(why.workers).toBe(why.probes.cores - 1);
    expect(rt.workers).toBe(why.workers);
    expect(why.description).toBe(rt.compute.description);
    await goldenStep1(rt);
    await rt.dispose();
  });

  it('on a simulated platform without shared memory degrades a requested pool to one thread and says so', async () => {
    const rt = await createRuntime({ backend: 'wasm', workers: 3, platform: NODE_NO_GPU(false) });
    expect(rt.backend).toBe('wasm');
    expect(rt.workers).toBe(0);
    expect(rt.explain().reason).toMatch(/main thread only, because simulated: SharedArrayBuffer is unavailable/);
    expect(rt.explain().warnings).toEqual([expect.stringMatching(/^workers: 3 was asked for, but the worker pool cannot run here \(simulated: SharedArrayBuffer is unavailable here\).*Fix: serve the page with Cross-Origin-Opener-Policy/)]);
    expect(rt.compute.description).toMatch(/main thread/);
    await goldenStep1(rt);
    await rt.dispose();
  });

  it('auto without an adapter picks the pool for an unknown size and one thread for a tiny model', async () => {
    const big = await createRuntime({ platform: NODE_NO_GPU(true) });
    expect(big.explain()).toMatchObject({ chosen: 'wasm', workers: 3, refused: { webgpu: 'simulated: no adapter' } });
    expect(big.compute.description).toMatch(/3 workers \+ the main thread/);
    await big.dispose();
    const tiny = await createRuntime({ platform: NODE_NO_GPU(true), expectedParams: 1000 });
    expect(tiny.explain()).toMatchObject({ chosen: 'wasm', workers: 0 });
    expect(tiny.explain().reason).toMatch(/too small to shard/);
    await tiny.dispose();
  });

  it('an explicit worker count whose workers cannot start (bad workerUrl) is an error naming the cause and the fix', async () => {
    const error = await createRuntime({ backend: 'wasm', workers: 1, workerUrl: new URL('./no-such-worker.js', import.meta.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect((error as Error).message).toMatch(/workers: 1 was asked for, but the worker pool did not start \(.*no-such-worker.*\)\. Fix: .*workerUrl.*workers: 'auto'/s);
  });

  it("workers: 'auto' whose workers cannot start runs on one thread, with a warning naming the cause and the fix", async () => {
    const rt = await createRuntime({ backend: 'wasm', workers: 'auto', platform: NODE_NO_GPU(true), workerUrl: new URL('./no-such-worker.js', import.meta.url) });
    expect(rt.workers).toBe(0);
    expect(rt.explain().reason).toMatch(/worker pool did not start .*no-such-worker/);
    expect(rt.explain().warnings).toEqual([expect.stringMatching(/^the worker pool \(3 workers\) did not start, so wasm runs on one thread: .*no-such-worker.*Fix: .*workerUrl/s)]);
    await goldenStep1(rt);
    await rt.dispose();
  });

  it('has no warnings when the runtime is what was asked for', async () => {
    const rt = await createRuntime({ backend: 'wasm', workers: 1 });
    expect(rt.workers).toBe(1);
    expect(rt.explain().warnings).toEqual([]);
    await rt.dispose();
  });

  it('throws NoBackendError listing every refusal when nothing requested can run', async () => {
    const platform: PlatformProbe = { ...NODE_NO_GPU(true), wasm: { available: false, simd: false, reason: 'simulated: WebAssembly disabled' } };
    const error = await createRuntime({ backend: ['webgpu', 'wasm'], platform }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoBackendError);
    expect((error as NoBackendError).reasons).toEqual({ webgpu: 'simulated: no adapter', wasm: 'simulated: WebAssembly disabled' });
    expect((error as Error).message).toMatch(/webgpu: simulated: no adapter; wasm: simulated: WebAssembly disabled.*Add 'js'/);
  });

  it('rejects bad options before doing anything', async () => {
    await expect(createRuntime({ backend: 'cuda' as never })).rejects.toThrow(ConfigError);
    await expect(createRuntime({ backend: ['wasm', 'wasm'] })).rejects.toThrow(/distinct/);
    await expect(createRuntime({ workers: -1 })).rejects.toThrow(/workers must be 'auto' or an integer/);
    await expect(createRuntime({ expectedParams: 1.5 })).rejects.toThrow(/expectedParams/);
    await expect(createRuntime({ minElementsPerWorker: 4 })).rejects.toThrow(/minElementsPerWorker must be an integer ≥ 16/);
    await expect(createRuntime({ workerTimeoutMs: 0 })).rejects.toThrow(/workerTimeoutMs/);
  });
});

describe('createRuntime option names', () => {
  it('rejects an unknown option by name, listing the known ones', async () => {
    await expect(createRuntime({ backnd: 'wasm' } as never)).rejects.toThrow(/createRuntime: unknown option 'backnd'; known options are backend, workers/);
  });
});
