// The wasm backend's kernels against the plain-TypeScript reference (docs/KERNELS.md: bit for
// bit), the Random123 known answers, float64 Box–Muller, range splitting, the heap, and noise drawn
// ahead (drawEpsilon = fillNormal; the one-pass step reading it = the step drawing it, same bits).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Arena, Backend, HessApprox, IvonUpdateArgs, Range, Role, SampleArgs } from '../src/backend.js';
import { JsBackend } from '../src/backends/js.js';
import { fillNormal } from '../src/kernels/normal.js';
import { philoxBlocks } from '../src/kernels/philox.js';
import { mulberry32 } from './conformance/helpers.js';

type WasmModule = typeof import('../src/backends/wasm.js');
type WasmArena = import('../src/backends/wasm.js').WasmArena;
let wasm: WasmModule;

beforeAll(async () => {
  // The backend embeds the module that this script generates (a no-op when it is up to date).
  execFileSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'pipe' });
  wasm = await import('../src/backends/wasm.js');
});

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Index of the first element whose float32 bits differ, or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = bits(a);
  const y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const at = firstBitDifference(actual, expected);
  expect(at, `${what}: first difference at ${at} (wasm ${actual[at]}, reference ${expected[at]})`).toBe(-1);
}

const ALL_ROLES: Role[] = ['mean', 'hess', 'momentum', 'expAvgSq', 'theta', 'grad', 'noise', 'gradMean', 'curvMean', 'epsilon'];

/** Random contents per role, in the ranges each role takes in real use. */
function randomRoleData(length: number, seed: number): Map<Role, Float32Array> {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const data = new Map<Role, Float32Array>();
  for (const role of ALL_ROLES) {
    const values = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      if (role === 'hess') values[i] = rand() < 0.1 ? -0.5e-3 * rand() : 2 * rand() + 1e-3; // h may dip below 0 (> -δ)
      else if (role === 'expAvgSq') values[i] = rand() * rand();
      else values[i] = gauss();
    }
    data.set(role, values);
  }
  return data;
}

/** The same arena on both backends, filled with the same random data. */
function twinArenas(js: Backend, w: Backend, length: number, seed: number): [Arena, Arena] {
  const a = js.createArena(length, ALL_ROLES);
  const b = w.createArena(length, ALL_ROLES);
  for (const [role, values] of randomRoleData(length, seed)) {
    js.write(a, role, 0, values);
    w.write(b, role, 0, values);
  }
  return [a, b];
}

async function expectArenasEqual(js: Backend, a: Arena, w: Backend, b: Arena, what: string): Promise<void> {
  for (const role of ALL_ROLES) {
    const range = { start: 0, count: a.length };
    expectSameBits(await w.read(b, role, range), await js.read(a, role, range), `${what}, role ${role}`);
  }
}

const RANGES: Range[] = [
  { start: 0, count: 1 },
  { start: 16, count: 3 },
  { start: 32, count: 17 },
  { start: 48, count: 33 },
  { start: 160, count: 1001 },
  { start: 0, count: 1200 },
];

function updateArgs(hessApprox: 'price' | 'gradsq', clipRadius: number): IvonUpdateArgs {
  const beta1 = 0.9;
  const beta2 = 0.99999;
  return {
    hessApprox, ess: 1000, weightDecay: 1e-3, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2,
    curvCoef: 0.5 * (1 - beta2) ** 2, invDebias: 1 / (1 - beta1 ** 3), alpha: 0.1 * (1 + 1e-3), clipRadius,
  };
}

describe('Philox4x32-10 on the wasm backend', () => {
  it('reproduces the Random123 known-answer vectors', async () => {
    const backend = await wasm.createWasmBackend();
    const hex = (x: Uint32Array) => Array.from(x, (v) => v.toString(16).padStart(8, '0')).join(' ');
    expect(hex(await backend.randomBits(0, 1, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const ones = 0xffffffff;
    expect(hex(await backend.randomBits(ones, 1, ones, ones, ones, ones, ones))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(await backend.randomBits(0x243f6a88, 1, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  it('matches the TypeScript reference block for block, including partial groups of 4 blocks', async () => {
    const backend = await wasm.createWasmBackend();
    for (const [first, blocks] of [[0, 1], [7, 2], [0xfffffffe, 3], [123456, 37]]) {
      const expected = new Uint32Array(4 * blocks);
      philoxBlocks(expected, blocks, first, 5, 9, 1, 0xdeadbeef, 77);
      expect(Array.from(await backend.randomBits(first, blocks, 5, 9, 1, 0xdeadbeef, 77))).toEqual(Array.from(expected));
    }
  });
});

describe('normals on the wasm backend', () => {
  it('equal the TypeScript reference bit for bit for any first element and count', async () => {
    const backend = await wasm.createWasmBackend();
    const js = new JsBackend();
    for (const [first, count] of [[0, 1], [0, 16], [3, 15], [5, 100], [16, 17], [1000003, 333], [0, 4096]]) {
      const keys = [2, 7, 1, 0x9abcdef0, 3] as const;
      expectSameBits(await backend.randomNormals(first, count, ...keys), await js.randomNormals(first, count, ...keys), `first ${first}, count ${count}`);
    }
  });

  it('agree with float64 Box–Muller on the same Philox words within 1e-5', async () => {
    const backend = await wasm.createWasmBackend();
    const groups = 256;
    const [sample, step, stream, seedLo, seedHi] = [1, 4, 0, 42, 0];
    const z = await backend.randomNormals(0, 16 * groups, sample, step, stream, seedLo, seedHi);
    const words = await backend.randomBits(0, 4 * groups, sample, step, stream, seedLo, seedHi);
    const u = (x: number) => ((x >>> 8) | 1) / 2 ** 24;
    let worst = 0;
    for (let e = 0; e < z.length; e++) {
      const block = ((e >> 4) << 2) | (e & 3);
      const j = (e >> 2) & 3;
      const w = words.subarray(4 * block, 4 * block + 4);
      const pair = j < 2 ? 0 : 2;
      const r = Math.sqrt(-2 * Math.log(u(w[pair])));
      const angle = 2 * Math.PI * u(w[pair + 1]);
      const exact = r * (j % 2 === 0 ? Math.cos(angle) : Math.sin(angle));
      worst = Math.max(worst, Math.abs(z[e] - exact) / Math.max(1, Math.abs(exact)));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('have mean 0 and variance 1 (2^20 draws)', async () => {
    const backend = await wasm.createWasmBackend();
    const z = await backend.randomNormals(0, 1 << 20, 0, 0, 0, 12345, 0);
    let sum = 0;
    let squares = 0;
    for (const v of z) {
      sum += v;
      squares += v * v;
    }
    expect(Math.abs(sum / z.length)).toBeLessThan(5 / Math.sqrt(z.length));
    expect(Math.abs(squares / z.length - 1)).toBeLessThan(5 * Math.sqrt(2 / z.length));
  });
});

describe('wasm kernels equal the TypeScript reference bit for bit', () => {
  const cases: [string, (b: Backend, arena: Arena, range: Range) => void][] = [
    ['ivonSample', (b, a, r) => b.ivonSample(a, r, { sample: 1, step: 9, stream: 0, seedLo: 0xfeedbeef, seedHi: 3, ess: 500, weightDecay: 1e-3 })],
    ['ivonSampleGiven', (b, a, r) => b.ivonSampleGiven(a, r, 500, 1e-3)],
    ['ivonAccumulate price', (b, a, r) => b.ivonAccumulate(a, r, 3, 'price')],
    ['ivonAccumulate gradsq', (b, a, r) => b.ivonAccumulate(a, r, 2, 'gradsq')],
    ['ivonUpdate price', (b, a, r) => b.ivonUpdate(a, r, updateArgs('price', Infinity))],
    ['ivonUpdate gradsq clipped', (b, a, r) => b.ivonUpdate(a, r, updateArgs('gradsq', 1e-3))],
    ['ivonUpdateFused price clipped', (b, a, r) => b.ivonUpdateFused(a, r, updateArgs('price', 1e-3))],
    ['ivonUpdateFused gradsq', (b, a, r) => b.ivonUpdateFused(a, r, updateArgs('gradsq', Infinity))],
    ['ivonDraw', (b, a, r) => b.ivonDraw(a, r, { sample: 2, step: 4, stream: 1, seedLo: 11, seedHi: 0, ess: 300, weightDecay: 1e-3 })],
    ['ivonUpdateRedraw price', (b, a, r) => b.ivonUpdateRedraw(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('price', 1e-3))],
    ['ivonUpdateAndDraw price', (b, a, r) => b.ivonUpdateAndDraw(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('price', Infinity))],
    ['ivonUpdateFusedAndSample price', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('price', Infinity))],
    ['ivonUpdateFusedAndSample gradsq clipped', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('gradsq', 1e-3))],
    ['ivonUpdateAndDraw gradsq', (b, a, r) => b.ivonUpdateAndDraw(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('gradsq', Infinity))],
    ['drawEpsilon', (b, a, r) => b.drawEpsilon(a, r, { sample: 0, step: 5, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 })],
    // Whatever 'epsilon' holds (here random values) is the next z: read, not drawn.
    ['ivonUpdateFusedAndSample price, epsilon given', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('price', Infinity), 'epsilon')],
    ['ivonUpdateFusedAndSample gradsq clipped, epsilon given', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { sample: 0, step: 4, stream: 0, seedLo: 11, seedHi: 5, ess: 500, weightDecay: 1e-3 }, updateArgs('gradsq', 1e-3), 'epsilon')],
    ['adamwUpdate', (b, a, r) => b.adamwUpdate(a, r, {
      stepSize: 1e-3 / (1 - 0.9 ** 5), decayFactor: 1 - 1e-3 * 1e-2, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999,
      oneMinusBeta2: 1 - 0.999, eps: 1e-8, invBiasCorrection2Sqrt: 1 / Math.sqrt(1 - 0.999 ** 5),
    })],
    ['sgdUpdate', (b, a, r) => b.sgdUpdate(a, r, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 })],
    ['copy', (b, a, r) => b.copy(a, 'theta', 'grad', r)],
  ];
  for (const [name, apply] of cases) {
    it(`${name} on ranges with odd counts`, async () => {
      const backend = await wasm.createWasmBackend();
      const js = new JsBackend();
      const [a, b] = twinArenas(js, backend, 1216, name.length * 7919);
      for (const range of RANGES) {
        apply(js, a, range);
        apply(backend, b, range);
        await expectArenasEqual(js, a, backend, b, `${name} on [${range.start}, +${range.count})`);
      }
    });
  }

  it('countNonFinite counts NaN and ±Infinity and nothing else, in tails too', async () => {
    const backend = await wasm.createWasmBackend();
    const arena = backend.createArena(100, ['grad']);
    const values = new Float32Array(100).map((_, i) => i - 50);
    values[3] = NaN;
    values[17] = Infinity;
    values[64] = -Infinity;
    values[98] = NaN;
    values[99] = 3.4e38;
    backend.write(arena, 'grad', 0, values);
    expect(await backend.countNonFinite(arena, 'grad', { start: 0, count: 100 })).toBe(4);
    expect(await backend.countNonFinite(arena, 'grad', { start: 16, count: 83 })).toBe(3);
    expect(await backend.countNonFinite(arena, 'grad', { start: 96, count: 3 })).toBe(1);
  });
});

describe('noise drawn ahead on js and wasm', () => {
  const sampleAt = (step: number): SampleArgs => ({ sample: 0, step, stream: 0, seedLo: 0xfeedbeef, seedHi: 3, ess: 500, weightDecay: 1e-3 });
  const backends: [string, () => Promise<Backend>][] = [['js', async () => new JsBackend()], ['wasm', () => wasm.createWasmBackend()]];

  for (const [name, make] of backends) {
    it(`${name}: drawEpsilon writes fillNormal's bits into the epsilon range and nothing else`, async () => {
      const b = await make();
      const arena = b.createArena(1216, ['epsilon', 'noise']);
      b.fill(arena, 'epsilon', { start: 0, count: 1216 }, 7);
      for (const range of RANGES) {
        const s = { ...sampleAt(range.start), sample: 2, stream: 1 };
        b.drawEpsilon(arena, range, s);
        const want = new Float32Array(range.count);
        fillNormal(want, range.count, range.start, s.sample, s.step, s.stream, s.seedLo, s.seedHi);
        expectSameBits(await b.read(arena, 'epsilon', range), want, `drawEpsilon on [${range.start}, +${range.count})`);
      }
      const tail = { start: 1200, count: 16 };
      expect([...(await b.read(arena, 'epsilon', tail))].every((v) => v === 7)).toBe(true);
      expect([...(await b.read(arena, 'noise', { start: 0, count: 1216 }))].every((v) => v === 0)).toBe(true);
    });

    for (const withPrior of [false, true]) {
      for (const hessApprox of ['price', 'gradsq'] as HessApprox[]) {
        it(`${name}: the step reading ε drawn ahead gives the bits of the step drawing it (${withPrior ? 'per-element prior' : 'no prior'}, ${hessApprox})`, async () => {
          const b = await make();
          const roles: Role[] = withPrior ? [...ALL_ROLES, 'priorMean', 'priorPrecision'] : ALL_ROLES;
          const [drawn, ahead] = [b.createArena(1216, roles), b.createArena(1216, roles)];
          const data = randomRoleData(1216, 41);
          const rand = mulberry32(43);
          if (withPrior) {
            data.set('priorMean', Float32Array.from({ length: 1216 }, () => rand() * 2 - 1));
            data.set('priorPrecision', Float32Array.from({ length: 1216 }, () => 0.01 + rand()));
          }
          for (const [role, values] of data) {
            b.write(drawn, role, 0, values);
            b.write(ahead, role, 0, values);
          }
          const range = { start: 48, count: 1101 };
          for (let step = 4; step < 7; step++) {
            const args = { ...updateArgs(hessApprox, Infinity), invDebias: 1 / (1 - 0.9 ** (step + 1)) };
            b.ivonUpdateFusedAndSample(drawn, range, sampleAt(step), args, 'draw');
            b.drawEpsilon(ahead, range, sampleAt(step + 1)); // the counter the step draws with: (0, step + 1, 0)
            b.ivonUpdateFusedAndSample(ahead, range, sampleAt(step), args, 'epsilon');
            for (const role of ['mean', 'hess', 'momentum', 'noise', 'theta'] as Role[]) {
              const all = { start: 0, count: 1216 };
              expectSameBits(await b.read(ahead, role, all), await b.read(drawn, role, all), `step ${step} ${role}`);
            }
          }
        });
      }
    }
  }
});

describe('range splitting', () => {
  it('splitRange gives contiguous pieces aligned to 16 that cover the range', () => {
    const pieces = wasm.splitRange({ start: 32, count: 1001 }, 3);
    expect(pieces[0].start).toBe(32);
    for (let i = 1; i < pieces.length; i++) {
      expect(pieces[i].start % 16).toBe(0);
      expect(pieces[i].start).toBe(pieces[i - 1].start + pieces[i - 1].count);
    }
    const last = pieces[pieces.length - 1];
    expect(last.start + last.count).toBe(32 + 1001);
    expect(pieces.length).toBeLessThanOrEqual(3);
  });

  it('ivonSample and ivonUpdateFused split in pieces give the bits of one call', async () => {
    const one = await wasm.createWasmBackend();
    const split = await wasm.createWasmBackend();
    const [a, b] = twinArenas(one, split, 3000, 99);
    const range = { start: 48, count: 2901 };
    const sampleArgs = { sample: 0, step: 2, stream: 0, seedLo: 7, seedHi: 0, ess: 100, weightDecay: 1e-4 };
    one.ivonSample(a, range, sampleArgs);
    const arena = b as WasmArena;
    for (const pieces of [2, 5, 13]) {
      const sample = { kernel: 'ivonSample' as const, args: [wasm.roleArg('mean'), wasm.roleArg('hess'), wasm.roleArg('noise'), wasm.roleArg('theta'), 0, 'count' as const, 'first' as const, 0, 2, 0, 7, 0, 100, 1e-4] }; // 0: no per-element prior
      for (const piece of wasm.splitRange(range, pieces)) wasm.callKernel(split.exports, arena.bases, sample, piece.start, piece.count);
      expectSameBits(await split.read(b, 'noise', range), await one.read(a, 'noise', range), `noise in ${pieces} pieces`);
      expectSameBits(await split.read(b, 'theta', range), await one.read(a, 'theta', range), `theta in ${pieces} pieces`);
    }
    // ivonUpdateFused with the scalars of updateArgs('price', Infinity), as one call and in 7 pieces.
    const u = updateArgs('price', Infinity);
    const update = {
      kernel: 'ivonUpdateFused' as const,
      args: [wasm.roleArg('mean'), wasm.roleArg('hess'), wasm.roleArg('momentum'), wasm.roleArg('grad'), wasm.roleArg('noise'), 0, 0, 'count' as const,
        0, u.ess, u.weightDecay, u.beta1, u.oneMinusBeta1, u.beta2, u.oneMinusBeta2, u.curvCoef, u.invDebias, u.alpha, u.clipRadius],
    };
    const [c, d] = twinArenas(one, split, 3000, 5);
    one.ivonUpdateFused(c, range, u);
    for (const piece of wasm.splitRange(range, 7)) wasm.callKernel(split.exports, (d as WasmArena).bases, update, piece.start, piece.count);
    for (const role of ['mean', 'hess', 'momentum'] as const) {
      expectSameBits(await split.read(d, role, range), await one.read(c, role, range), `ivonUpdateFused ${role} in 7 pieces`);
    }
  });
});

describe('wasm memory and heap', () => {
  it('growing the memory keeps existing arenas intact and views are re-derived', async () => {
    const backend = await wasm.createWasmBackend({ initialBytes: 65536 });
    const first = backend.createArena(1000, ['mean', 'hess']);
    const values = new Float32Array(1000).map((_, i) => i * 0.25 - 7);
    backend.write(first, 'hess', 0, values);
    const pagesBefore = backend.memory.buffer.byteLength;
    const big = backend.createArena(1 << 20, ['mean', 'grad', 'momentum']);
    expect(backend.memory.buffer.byteLength).toBeGreaterThan(pagesBefore);
    backend.fill(big, 'grad', { start: 0, count: 1 << 20 }, 1.5);
    expectSameBits(await backend.read(first, 'hess', { start: 0, count: 1000 }), values, 'arena after growth');
    expect(Array.from(backend.view(first, 'mean', { start: 0, count: 4 }))).toEqual([0, 0, 0, 0]);
    expect(backend.view(big, 'grad', { start: (1 << 20) - 1, count: 1 })[0]).toBe(1.5);
  });

  it('reuses freed blocks, coalesces neighbours and zeroes new arenas', async () => {
    const backend = await wasm.createWasmBackend();
    const a = backend.createArena(100, ['mean']) as WasmArena;
    const b = backend.createArena(100, ['mean']) as WasmArena;
    const c = backend.createArena(100, ['mean']) as WasmArena;
    expect(a.block % 64).toBe(0);
    expect(b.block).toBe(a.block + 448); // 100 floats -> 7 groups of 16 -> 448 bytes
    backend.fill(a, 'mean', { start: 0, count: 100 }, 9);
    backend.destroyArena(a);
    backend.destroyArena(b);
    const d = backend.createArena(200, ['mean']) as WasmArena; // 832 bytes fit in a + b
    expect(d.block).toBe(a.block);
    expect(Array.from(await backend.read(d, 'mean', { start: 0, count: 200 })).every((v) => v === 0)).toBe(true);
    backend.destroyArena(c);
    backend.destroyArena(d);
    expect(backend.heap.usedBytes).toBe(0);
    expect(backend.heap.highWater).toBe(a.block); // everything returned: the bump pointer is back
  });

  it('spreads the role buffers of a page-multiple arena across a 4 KiB page, without overlap', async () => {
    const backend = await wasm.createWasmBackend();
    const roles: Role[] = ['mean', 'hess', 'momentum', 'grad', 'noise', 'theta'];
    const length = 1 << 16; // 256 KiB per role: unpadded, every base would share its page offset
    const arena = backend.createArena(length, roles) as WasmArena;
    const bases = roles.map((role) => arena.bases[role]!);
    const pageOffsets = bases.map((base) => base % 4096);
    expect(new Set(pageOffsets).size).toBe(roles.length);
    expect(pageOffsets.every((offset) => offset % 64 === 0)).toBe(true);
    const sorted = [...pageOffsets].sort((a, b) => a - b);
    const gaps = sorted.map((offset, i) => (i === 0 ? offset + 4096 - sorted[sorted.length - 1] : offset - sorted[i - 1]));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(640); // 4096 / 6 rounded down to whole lines
    for (let i = 1; i < bases.length; i++) expect(bases[i] - bases[i - 1]).toBeGreaterThanOrEqual(4 * length);
    roles.forEach((role, index) => backend.fill(arena, role, { start: 0, count: length }, index));
    for (const [index, role] of roles.entries()) {
      const values = await backend.read(arena, role, { start: 0, count: length });
      expect(values[0]).toBe(index);
      expect(values[length - 1]).toBe(index);
    }
    expect(wasm.roleStride(100, 6)).toBe(448); // under a page: whole groups only, nothing added
    expect(wasm.roleStride(1 << 20, 1)).toBe(4 << 20); // one role: nothing to spread
    backend.destroyArena(arena);
  });

  it('rejects ranges outside the arena, unknown roles and destroyed arenas with clear errors', async () => {
    const backend = await wasm.createWasmBackend();
    const arena = backend.createArena(10, ['mean']);
    expect(() => backend.view(arena, 'mean', { start: 8, count: 3 })).toThrow(/outside the arena/);
    expect(() => backend.view(arena, 'hess', { start: 0, count: 1 })).toThrow(/no 'hess' buffer/);
    expect(() => backend.sgdUpdate(arena, { start: 0, count: 10 }, { lr: 1, momentum: 0, weightDecay: 0 })).toThrow(/'grad' buffer/);
    backend.destroyArena(arena);
    expect(() => backend.view(arena, 'mean', { start: 0, count: 1 })).toThrow(/destroyed arena/);
  });
});

describe('module variants and overrides', () => {
  it('the shared-memory module gives the same bits as the default one', async () => {
    const plain = await wasm.createWasmBackend();
    const shared = await wasm.createWasmBackend({ shared: true });
    expect(shared.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.description).toMatch(/shared memory/);
    expectSameBits(await shared.randomNormals(5, 1000, 1, 2, 0, 3, 4), await plain.randomNormals(5, 1000, 1, 2, 0, 3, 4), 'shared normals');
  });

  it('accepts the module as bytes, as a file URL and as a compiled module', async () => {
    const bytes = new Uint8Array(readFileSync('build/ivon.wasm'));
    const url = new URL('../build/ivon.wasm', import.meta.url);
    const compiled = await WebAssembly.compile(bytes);
    const expected = await (await wasm.createWasmBackend()).randomNormals(0, 64, 0, 0, 0, 1, 0);
    for (const module of [bytes, bytes.buffer, url, url.href, compiled]) {
      const backend = await wasm.createWasmBackend({ module });
      expectSameBits(await backend.randomNormals(0, 64, 0, 0, 0, 1, 0), expected, `module given as ${module.constructor.name}`);
    }
  });

  it('explains a module that does not match the memory kind', async () => {
    const bytes = new Uint8Array(readFileSync('build/ivon.wasm'));
    await expect(wasm.createWasmBackend({ module: bytes, shared: true })).rejects.toThrow(/shared option/);
  });
});
