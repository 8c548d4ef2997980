// The WebGPU backend in Node (Dawn over SwiftShader or a real Vulkan driver) against the
// TypeScript reference: Philox bits identical, normals within a few ulp, every kernel within 1e-6
// relative, the IVON.md §7 golden vectors within 1e-5, the chunked-dispatch path, device loss, and
// noise drawn ahead (drawEpsilon, then the one-pass step reading it: the bits of drawing it there,
// also in the three-pass form a device with the default 8 storage buffers per stage runs).
// No adapter is a failure here, never a skip (createWebGpuBackend throws in beforeAll).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arena, Backend, HessApprox, IvonUpdateArgs, Range, Role, SampleArgs } from '../src/backend.js';
import { JsBackend } from '../src/backends/js.js';
import { fillNormal } from '../src/kernels/normal.js';
import { philox4x32, philoxBlocks } from '../src/kernels/philox.js';
import { getGpu, releaseGpu } from '../gpu/gpu-provider.js';
import { DeviceLostError } from '../gpu/errors.js';
import { hasTimestamps, timeKernels } from '../gpu/timing.js';
import { createWebGpuBackend, type WebGpuBackend } from '../gpu/webgpu-backend.js';
import { GOLDEN } from './oracle/golden.js';
import { runGolden } from './browser/scenario.js';

const ROLES: Role[] = ['mean', 'hess', 'momentum', 'expAvgSq', 'theta', 'grad', 'noise', 'gradMean', 'curvMean', 'epsilon'];

/** Deterministic values in [lo, hi). */
function values(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  });
}

/** max |got - want| / max(|want|, floor) over the arrays. */
function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-3): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

/** Distance in float32 units in the last place. */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const toOrdered = (x: number) => (x < 0 ? 0x80000000 - x : x);
  return Math.abs(toOrdered(i[0]) - toOrdered(i[1]));
}

/** The same arena contents on the GPU and on the reference backend. */
async function twinArenas(gpu: Backend, ref: Backend, length: number, seed: number): Promise<[Arena, Arena]> {
  const g = gpu.createArena(length, ROLES);
  const r = ref.createArena(length, ROLES);
  ROLES.forEach((role, k) => {
    const lo = role === 'hess' || role === 'expAvgSq' ? 0.01 : -2;
    const data = values(length, seed + 17 * k, lo, 2);
    gpu.write(g, role, 0, data);
    ref.write(r, role, 0, data);
  });
  return [g, r];
}

const IVON_ARGS: IvonUpdateArgs = {
  hessApprox: 'price',
  ess: 50,
  weightDecay: 1e-3,
  beta1: 0.9,
  oneMinusBeta1: 1 - 0.9,
  beta2: 0.99,
  oneMinusBeta2: 1 - 0.99,
  curvCoef: 0.5 * (1 - 0.99) ** 2,
  invDebias: 1 / (1 - 0.9 ** 3),
  alpha: 0.05,
  clipRadius: Infinity,
};

/** Every kernel the Backend runs, each applied identically to both backends. */
const KERNEL_CALLS: Array<[string, (b: Backend, a: Arena, range: Range) => void]> = [
  ['ivonSample', (b, a, r) => b.ivonSample(a, r, { sample: 1, step: 4, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 })],
  ['ivonSampleGiven', (b, a, r) => b.ivonSampleGiven(a, r, 30, 1e-2)],
  ['ivonAccumulate price', (b, a, r) => b.ivonAccumulate(a, r, 2, 'price')],
  ['ivonAccumulate gradsq', (b, a, r) => b.ivonAccumulate(a, r, 3, 'gradsq')],
  ['ivonUpdate price', (b, a, r) => b.ivonUpdate(a, r, IVON_ARGS)],
  ['ivonUpdate gradsq clipped', (b, a, r) => b.ivonUpdate(a, r, { ...IVON_ARGS, hessApprox: 'gradsq', clipRadius: 0.05 })],
  ['ivonUpdateFused', (b, a, r) => b.ivonUpdateFused(a, r, IVON_ARGS)],
  ['ivonDraw', (b, a, r) => b.ivonDraw(a, r, { sample: 0, step: 4, stream: 1, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 })],
  ['ivonUpdateRedraw', (b, a, r) => b.ivonUpdateRedraw(a, r, { sample: 0, step: 4, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 }, IVON_ARGS)],
  ['ivonUpdateFusedAndSample', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 }, IVON_ARGS)],
  ['ivonUpdateAndDraw', (b, a, r) => b.ivonUpdateAndDraw(a, r, { sample: 0, step: 4, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 }, IVON_ARGS)],
  ['drawEpsilon', (b, a, r) => b.drawEpsilon(a, r, { sample: 0, step: 5, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 })],
  [
    'drawEpsilon, then ivonUpdateFusedAndSample epsilon',
    (b, a, r) => {
      b.drawEpsilon(a, r, { sample: 0, step: 5, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 });
      b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 }, IVON_ARGS, 'epsilon');
    },
  ],
  // Whatever 'epsilon' holds is the next z (here the twins' random values, not normals): proof that it is read, not drawn.
  ['ivonUpdateFusedAndSample epsilon', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 }, IVON_ARGS, 'epsilon')],
  [
    'adamwUpdate',
    (b, a, r) =>
      b.adamwUpdate(a, r, {
        stepSize: 1e-2 / (1 - 0.9 ** 2),
        decayFactor: 1 - 1e-2 * 1e-2,
        beta1: 0.9,
        oneMinusBeta1: 0.1,
        beta2: 0.999,
        oneMinusBeta2: 1 - 0.999,
        eps: 1e-8,
        invBiasCorrection2Sqrt: 1 / Math.sqrt(1 - 0.999 ** 2),
      }),
  ],
  ['sgdUpdate', (b, a, r) => b.sgdUpdate(a, r, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 })],
  ['copy', (b, a, r) => b.copy(a, 'gradMean', 'theta', r)],
  ['fill', (b, a, r) => b.fill(a, 'curvMean', { start: r.start, count: Math.max(0, r.count - 3) }, 0.25)],
];

/**
 * Each kernel on fresh twin arenas over several ranges, then every role compared: the range's
 * results within `rel`, everything outside the ranges untouched. Kernels are compared one at a
 * time because an fma-contracting GPU's ulp differences would compound through a chain.
 */
async function expectKernelsMatchReference(gpu: Backend, ref: Backend, length: number, ranges: Range[], seed: number): Promise<void> {
  for (const [name, call] of KERNEL_CALLS) {
    const [g, r] = await twinArenas(gpu, ref, length, seed);
    for (const range of ranges) {
      call(gpu, g, range);
      call(ref, r, range);
    }
    for (const role of ROLES) {
      const all = { start: 0, count: length };
      const err = maxRelError(await gpu.read(g, role, all), await ref.read(r, role, all), 1);
      expect(err, `${name}: role ${role}`).toBeLessThanOrEqual(1e-6);
    }
    gpu.destroyArena(g);
  }
}

describe('webgpu backend (Node, Dawn)', () => {
  let gpu: WebGpuBackend;
  const ref = new JsBackend();

  beforeAll(async () => {
    gpu = await createWebGpuBackend();
  });
  afterAll(async () => {
    await gpu?.dispose();
    releaseGpu();
  });

  it('finds an adapter and describes it', () => {
    expect(gpu.kind).toBe('webgpu');
    expect(gpu.description).toMatch(/WebGPU on /);
    expect(gpu.limits.maxWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
  });

  it('reproduces the Random123 Philox4x32-10 known answers bit for bit', async () => {
    expect([...(await gpu.randomBits(0, 1, 0, 0, 0, 0, 0))]).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    const ones = 0xffffffff;
    expect([...(await gpu.randomBits(ones, 1, ones, ones, ones, ones, ones))]).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    const pi = await gpu.randomBits(0x243f6a88, 1, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
    expect([...pi]).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  it('gives the same u32 stream as src/kernels/philox.ts, including the block counter wrapping past 2^32', async () => {
    const blocks = 700;
    for (const [first, c1, c2, c3, k0, k1] of [
      [0, 0, 0, 0, 0, 0],
      [123456, 7, 3, 1, 0xdeadbeef, 0x12345678],
      [0xffffff00, 1, 2, 0, 42, 0],
    ]) {
      const want = new Uint32Array(4 * blocks);
      philoxBlocks(want, blocks, first, c1, c2, c3, k0, k1);
      expect(await gpu.randomBits(first, blocks, c1, c2, c3, k0, k1)).toEqual(want);
    }
    expect([...(await gpu.randomBits(9, 1, 8, 7, 6, 5, 4))]).toEqual([...philox4x32(9, 8, 7, 6, 5, 4)]);
  });

  it('draws the normals of src/kernels/normal.ts within 4 ulp, for aligned and unaligned first elements', async () => {
    for (const [first, count, sample, step, stream, seedLo, seedHi] of [
      [0, 4096, 0, 0, 0, 0, 0],
      [7, 1001, 2, 11, 1, 0xabcdef, 5],
      [1 << 20, 333, 0, 1, 0, 1, 1],
    ]) {
      const want = new Float32Array(count);
      fillNormal(want, count, first, sample, step, stream, seedLo, seedHi);
      const got = await gpu.randomNormals(first, count, sample, step, stream, seedLo, seedHi);
      let worst = 0;
      for (let i = 0; i < count; i++) worst = Math.max(worst, ulps(got[i], want[i]));
      expect(worst).toBeLessThanOrEqual(4);
    }
  });

  it('runs every kernel like the TypeScript reference (1e-6 relative) and leaves elements outside the range alone', async () => {
    await expectKernelsMatchReference(gpu, ref, 200, [{ start: 16, count: 37 }, { start: 64, count: 128 }, { start: 0, count: 3 }], 5);
  });

  it('counts NaN and ±Infinity like the reference', async () => {
    const a = gpu.createArena(300, ['grad']);
    const data = values(300, 9, -1, 1);
    for (const [i, v] of [[0, NaN], [17, Infinity], [18, -Infinity], [250, NaN], [299, Infinity]] as const) data[i] = v;
    gpu.write(a, 'grad', 0, data);
    expect(await gpu.countNonFinite(a, 'grad', { start: 0, count: 300 })).toBe(5);
    expect(await gpu.countNonFinite(a, 'grad', { start: 16, count: 3 })).toBe(2); // 17, 18
    expect(await gpu.countNonFinite(a, 'grad', { start: 32, count: 200 })).toBe(0);
    expect(await gpu.countNonFinite(a, 'grad', { start: 240, count: 59 })).toBe(1); // 299 is outside
    gpu.destroyArena(a);
  });

  it('reproduces the golden vectors of IVON.md §7 with ε injected (1e-5)', async () => {
    const steps = await runGolden(gpu);
    steps.forEach((step, s) => {
      for (const key of ['theta', 'mean', 'hess', 'momentum'] as const) {
        expect(maxRelError(step[key], GOLDEN[s][key], 1), `step ${s + 1} ${key}`).toBeLessThanOrEqual(1e-5);
      }
    });
  });

  it('exposes GPU bindings of role ranges for GPU-resident models', () => {
    const a = gpu.createArena(100, ['theta', 'grad']);
    const b = gpu.binding(a, 'grad', { start: 32, count: 50 });
    expect(b).toEqual({ buffer: gpu.buffer(a, 'grad'), offset: 128, size: 200 });
    expect(() => gpu.binding(a, 'mean', { start: 0, count: 1 })).toThrow(/no 'mean' buffer/);
    expect(() => gpu.binding(a, 'grad', { start: 90, count: 20 })).toThrow(/not inside/);
    gpu.destroyArena(a);
  });

  it('times kernels without validation errors: GPU time from timestamps fits inside the host time', async () => {
    const a = gpu.createArena(4096, ['mean', 'theta']);
    gpu.device.pushErrorScope('validation');
    const t = await timeKernels(gpu, () => gpu.copyKernel(a, 'theta', 'mean', { start: 0, count: 4096 }), 5, 1);
    expect(await gpu.device.popErrorScope()).toBeNull();
    expect(t.hostMs).toBeGreaterThan(0);
    if (hasTimestamps(gpu)) {
      expect(t.gpuMs).toBeGreaterThan(0);
      expect(t.gpuMs!).toBeLessThanOrEqual(t.hostMs * 1.5);
    } else {
      expect(t.gpuMs).toBeUndefined();
    }
    expect(await gpu.read(a, 'theta', { start: 0, count: 4 })).toEqual(new Float32Array(4));
    gpu.destroyArena(a);
  });

  it('rejects misaligned ranges and non-u32 RNG arguments with messages that say what to fix', () => {
    const a = gpu.createArena(64, ROLES);
    expect(() => gpu.ivonSample(a, { start: 4, count: 8 }, { sample: 0, step: 0, stream: 0, seedLo: 0, seedHi: 0, ess: 1, weightDecay: 0 })).toThrow(
      /multiple of 16/,
    );
    expect(() => gpu.ivonSample(a, { start: 0, count: 8 }, { sample: -1, step: 0, stream: 0, seedLo: 0, seedHi: 0, ess: 1, weightDecay: 0 })).toThrow(
      /sample must be an integer/,
    );
    gpu.destroyArena(a);
  });
});

describe('webgpu backend: chunked dispatch (tiny binding window and grid forced by options)', () => {
  let gpu: WebGpuBackend;
  const ref = new JsBackend();

  beforeAll(async () => {
    // 1 KiB windows (256 floats) and at most 2x2 workgroups per dispatch: a few thousand
    // elements already need many windows, 2-D grids and several dispatches per call.
    gpu = await createWebGpuBackend({ limits: { maxBindingBytes: 1024, offsetAlignment: 256, maxWorkgroupsPerDimension: 2 } });
  });
  afterAll(async () => {
    await gpu?.dispose();
    releaseGpu();
  });

  it('runs every kernel like the reference across windows and 2-D grids', async () => {
    const length = 3000;
    await expectKernelsMatchReference(gpu, ref, length, [{ start: 0, count: 1024 }, { start: 1040, count: 1001 }, { start: 2048, count: 952 }], 11);
    const g = gpu.createArena(length, ['grad']);
    const bad = new Float32Array([NaN, 1, Infinity]);
    gpu.write(g, 'grad', 2500, bad);
    gpu.write(g, 'grad', 10, bad);
    expect(await gpu.countNonFinite(g, 'grad', { start: 0, count: length })).toBe(4);
    gpu.destroyArena(g);
  });

  it('keeps the RNG streams identical when they span many windows', async () => {
    const want = new Uint32Array(4 * 1500);
    philoxBlocks(want, 1500, 77, 1, 2, 3, 4, 5);
    expect(await gpu.randomBits(77, 1500, 1, 2, 3, 4, 5)).toEqual(want);
    const normals = new Float32Array(2100);
    fillNormal(normals, 2100, 3, 0, 1, 0, 8, 0);
    const got = await gpu.randomNormals(3, 2100, 0, 1, 0, 8, 0);
    let worst = 0;
    for (let i = 0; i < normals.length; i++) worst = Math.max(worst, ulps(got[i], normals[i]));
    expect(worst).toBeLessThanOrEqual(4);
  });
});

/** The bits of a float32 array, for exact comparisons with a readable diff. */
function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

const AHEAD_ROLES: Role[] = ['mean', 'hess', 'momentum', 'theta', 'grad', 'noise', 'epsilon'];
const STEP_OUTPUTS: Role[] = ['mean', 'hess', 'momentum', 'noise', 'theta'];

/**
 * Three steps on two arenas holding the same state: one drawing the next sample's z inside the
 * one-pass step ('draw'), the other drawing it ahead with drawEpsilon under the counter the step
 * uses, (0, step + 1, 0), and the step reading it ('epsilon'). Every output must keep the same bits.
 */
async function expectDrawnAheadGivesDrawnBits(gpu: Backend, length: number, range: Range, withPrior: boolean, hessApprox: HessApprox): Promise<void> {
  const roles: Role[] = withPrior ? [...AHEAD_ROLES, 'priorMean', 'priorPrecision'] : AHEAD_ROLES;
  const drawn = gpu.createArena(length, roles);
  const ahead = gpu.createArena(length, roles);
  roles.forEach((role, k) => {
    const data = values(length, 3 + 17 * k, role === 'hess' || role === 'priorPrecision' ? 0.01 : -2, 2);
    gpu.write(drawn, role, 0, data);
    gpu.write(ahead, role, 0, data);
  });
  const all = { start: 0, count: length };
  for (let step = 4; step < 7; step++) {
    const sample: SampleArgs = { sample: 0, step, stream: 0, seedLo: 99, seedHi: 3, ess: 50, weightDecay: 1e-3 };
    const args: IvonUpdateArgs = { ...IVON_ARGS, hessApprox, invDebias: 1 / (1 - 0.9 ** (step + 1)) };
    gpu.ivonUpdateFusedAndSample(drawn, range, sample, args, 'draw');
    gpu.drawEpsilon(ahead, range, { ...sample, sample: 0, step: step + 1, stream: 0 });
    gpu.ivonUpdateFusedAndSample(ahead, range, sample, args, 'epsilon');
    for (const role of STEP_OUTPUTS) {
      const label = `${withPrior ? 'prior' : 'no prior'} ${hessApprox} step ${step}: ${role}`;
      expect(bitsOf(await gpu.read(ahead, role, all)), label).toEqual(bitsOf(await gpu.read(drawn, role, all)));
    }
  }
  gpu.destroyArena(drawn);
  gpu.destroyArena(ahead);
}

/** The four combinations the one-pass step has: with and without a per-element prior, both estimators. */
async function expectDrawnAheadEverywhere(gpu: Backend, length: number, range: Range): Promise<void> {
  for (const withPrior of [false, true]) {
    for (const hessApprox of ['price', 'gradsq'] as const) await expectDrawnAheadGivesDrawnBits(gpu, length, range, withPrior, hessApprox);
  }
}

describe('webgpu backend: noise drawn ahead (drawEpsilon, ivonUpdateFusedAndSample next epsilon)', () => {
  let gpu: WebGpuBackend;
  let chunked: WebGpuBackend;

  beforeAll(async () => {
    gpu = await createWebGpuBackend();
    chunked = await createWebGpuBackend({ limits: { maxBindingBytes: 1024, offsetAlignment: 256, maxWorkgroupsPerDimension: 2 } });
  });
  afterAll(async () => {
    await gpu?.dispose();
    await chunked?.dispose();
    releaseGpu();
  });

  it("drawEpsilon writes fillNormal's normals into the epsilon range only: the GPU fillNormal's bits, the JS reference within 4 ulp", async () => {
    const length = 1200;
    const a = gpu.createArena(length, ['epsilon']);
    const all = { start: 0, count: length };
    gpu.fill(a, 'epsilon', all, 7);
    const s: SampleArgs = { sample: 2, step: 11, stream: 1, seedLo: 0xabcdef, seedHi: 5, ess: 1, weightDecay: 0 };
    const range = { start: 48, count: 1001 };
    gpu.drawEpsilon(a, range, s);
    const got = await gpu.read(a, 'epsilon', all);
    const inRange = got.subarray(range.start, range.start + range.count);
    expect(bitsOf(inRange)).toEqual(bitsOf(await gpu.randomNormals(range.start, range.count, s.sample, s.step, s.stream, s.seedLo, s.seedHi)));
    const want = new Float32Array(range.count);
    fillNormal(want, range.count, range.start, s.sample, s.step, s.stream, s.seedLo, s.seedHi);
    let worst = 0;
    for (let i = 0; i < range.count; i++) worst = Math.max(worst, ulps(inRange[i], want[i]));
    expect(worst).toBeLessThanOrEqual(4);
    expect([...got.subarray(0, range.start), ...got.subarray(range.start + range.count)].every((v) => v === 7)).toBe(true);
    gpu.destroyArena(a);
  });

  it('the device has as many storage buffers per stage as the adapter offers (the one-pass step with ε and a prior binds 9)', () => {
    expect(gpu.device.limits.maxStorageBuffersPerShaderStage).toBe(gpu.adapter!.limits.maxStorageBuffersPerShaderStage);
  });

  it('the step reading ε drawn ahead gives the bits of the step drawing it, with and without a prior, both estimators', async () => {
    await expectDrawnAheadEverywhere(gpu, 352, { start: 16, count: 333 });
  });

  it('... across binding windows and 2-D grids', async () => {
    await expectDrawnAheadEverywhere(chunked, 3000, { start: 16, count: 2900 });
  });

  it('... on a device with the default 8 storage buffers per stage (the prior case in three passes)', async () => {
    const source = await getGpu();
    const adapter = await source?.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter: this test needs one (Dawn over SwiftShader here)');
    const device = await adapter.requestDevice(); // no requiredLimits: the WebGPU defaults
    expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
    const small = await createWebGpuBackend({ device, adapter });
    try {
      await expectDrawnAheadEverywhere(small, 352, { start: 16, count: 333 });
    } finally {
      await small.dispose();
      device.destroy();
    }
  });

  it('refuses a missing epsilon role, a misaligned range and an unknown next before running anything', async () => {
    const a = gpu.createArena(64, ['mean', 'hess', 'momentum', 'grad', 'noise', 'theta']);
    const s: SampleArgs = { sample: 0, step: 1, stream: 0, seedLo: 1, seedHi: 0, ess: 50, weightDecay: 1e-3 };
    gpu.fill(a, 'theta', { start: 0, count: 64 }, 3);
    expect(() => gpu.drawEpsilon(a, { start: 0, count: 64 }, s)).toThrow(/no 'epsilon' buffer/);
    expect(() => gpu.ivonUpdateFusedAndSample(a, { start: 0, count: 64 }, s, IVON_ARGS, 'epsilon')).toThrow(/no 'epsilon' buffer/);
    expect(() => gpu.ivonUpdateFusedAndSample(a, { start: 0, count: 64 }, s, IVON_ARGS, 'later' as 'draw')).toThrow(/next must be 'draw' or 'epsilon'/);
    expect([...(await gpu.read(a, 'theta', { start: 0, count: 64 }))].every((v) => v === 3)).toBe(true);
    const b = gpu.createArena(64, ['epsilon']);
    expect(() => gpu.drawEpsilon(b, { start: 8, count: 16 }, s)).toThrow(/multiple of 16/);
    expect(() => gpu.drawEpsilon(b, { start: 0, count: 16 }, { ...s, step: -1 })).toThrow(/step must be an integer/);
    gpu.destroyArena(a);
    gpu.destroyArena(b);
  });
});

describe('webgpu backend: device loss', () => {
  afterAll(() => releaseGpu());

  it('rejects pending and later calls with DeviceLostError when the device is destroyed mid-run, and never hangs', async () => {
    const gpu = await createWebGpuBackend();
    const length = 1 << 16;
    const a = gpu.createArena(length, ['mean', 'hess', 'noise', 'theta']);
    const range = { start: 0, count: length };
    gpu.fill(a, 'hess', range, 1);
    for (let i = 0; i < 20; i++) gpu.ivonSample(a, range, { sample: i, step: 0, stream: 0, seedLo: 1, seedHi: 0, ess: 10, weightDecay: 0 });
    const pendingRead = gpu.read(a, 'theta', { start: 0, count: 16 });
    const pendingFlush = gpu.flush();
    gpu.device.destroy();
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 20_000));
    const settled = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof DeviceLostError ? 'lost' : `other: ${String(e)}`));
    // Waits pending at the loss reject with DeviceLostError (the queued work outlasts the
    // synchronous destroy() on any adapter this runs on); they never hang.
    expect(await Promise.race([settled(pendingFlush), timeout])).toBe('lost');
    expect(await Promise.race([settled(pendingRead), timeout])).toBe('lost');
    const info = await Promise.race([gpu.lost, timeout]);
    expect(info).not.toBe('hung');
    expect(gpu.isLost).toBe(true);
    await expect(gpu.flush()).rejects.toBeInstanceOf(DeviceLostError);
    await expect(gpu.read(a, 'theta', { start: 0, count: 4 })).rejects.toBeInstanceOf(DeviceLostError);
    expect(() => gpu.ivonSample(a, range, { sample: 0, step: 0, stream: 0, seedLo: 1, seedHi: 0, ess: 10, weightDecay: 0 })).toThrow(DeviceLostError);
    expect(() => gpu.createArena(16, ['mean'])).toThrow(/device was lost.*restore from a snapshot/);
    await gpu.dispose();
  });
});
