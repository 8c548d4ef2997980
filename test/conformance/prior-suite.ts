// IVON's per-element prior (issue #12) on one backend: the float64 oracle with δ_j and μ_j, the
// fixed point a quadratic fine-tune must reach (the MAP (θ₀δ + Hθ*)/(H+δ)), a prior equal to the
// defaults against no prior at all, exact resume through snapshots and checkpoints, setPrior, and
// the bad-input contract (a clear error, nothing changed). `exact` backends (js, wasm, the pool)
// must give the same bits where the formulas agree; webgpu is held to float32 rounding.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arena, Backend, IvonUpdateArgs, Range, Role, SampleArgs } from '../../src/backend.js';
import { ConfigError, IVON, UsageError, type Runtime } from '../../src/index.js';
import type { OptimizerSnapshot } from '../../src/optim/snapshot.js';
import { Ivon64 } from '../oracle/ivon64.js';
import { mulberry32 } from './helpers.js';
import { relClose } from './suite.js';

/** The bits of a float32 array, for exact comparisons with a readable diff. */
export function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** Every state tensor of a snapshot, flattened in a fixed order. */
export function stateBits(s: OptimizerSnapshot): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const name of Object.keys(s.tensors).sort()) {
    const t = s.tensors[name];
    for (const key of ['mean', 'hess', 'momentum', 'priorMean', 'priorPrecision'] as const) if (t[key]) out[`${name}.${key}`] = bits(t[key]!);
  }
  return out;
}

const ARENA_ROLES: Role[] = ['mean', 'hess', 'momentum', 'theta', 'grad', 'noise', 'gradMean', 'curvMean', 'priorMean', 'priorPrecision', 'epsilon'];
const SAMPLE: SampleArgs = { sample: 1, step: 3, stream: 0, seedLo: 5, seedHi: 1, ess: 40, weightDecay: 0.3 };
const UPDATE: IvonUpdateArgs = {
  hessApprox: 'price', ess: 40, weightDecay: 0.3, beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.95, oneMinusBeta2: 0.05,
  curvCoef: 0.5 * 0.05 * 0.05, invDebias: 1 / (1 - 0.9 ** 3), alpha: 0.05, clipRadius: Infinity,
};

/** Every kernel that uses δ, called on an arena with a per-element prior. */
export const PRIOR_KERNELS: [string, (b: Backend, a: Arena, r: Range) => void][] = [
  ['ivonSample', (b, a, r) => b.ivonSample(a, r, SAMPLE)],
  ['ivonDraw', (b, a, r) => b.ivonDraw(a, r, { ...SAMPLE, stream: 1 })],
  ['ivonSampleGiven', (b, a, r) => b.ivonSampleGiven(a, r, 40, 0.3)],
  ['ivonUpdate price', (b, a, r) => b.ivonUpdate(a, r, UPDATE)],
  ['ivonUpdate gradsq clipped', (b, a, r) => b.ivonUpdate(a, r, { ...UPDATE, hessApprox: 'gradsq', clipRadius: 0.05 })],
  ['ivonUpdateFused price', (b, a, r) => b.ivonUpdateFused(a, r, UPDATE)],
  ['ivonUpdateRedraw price', (b, a, r) => b.ivonUpdateRedraw(a, r, SAMPLE, UPDATE)],
  ['ivonUpdateAndDraw price', (b, a, r) => b.ivonUpdateAndDraw(a, r, { ...SAMPLE, sample: 0 }, UPDATE)],
  ['ivonUpdateAndDraw gradsq', (b, a, r) => b.ivonUpdateAndDraw(a, r, { ...SAMPLE, sample: 0 }, { ...UPDATE, hessApprox: 'gradsq' })],
  ['ivonUpdateFusedAndSample price', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { ...SAMPLE, sample: 0 }, UPDATE)],
  // The one-pass step reading the next z from 'epsilon' (there: random values, so it must be read).
  ['ivonUpdateFusedAndSample price, epsilon given', (b, a, r) => b.ivonUpdateFusedAndSample(a, r, { ...SAMPLE, sample: 0 }, UPDATE, 'epsilon')],
  [
    'drawEpsilon, then ivonUpdateFusedAndSample gradsq epsilon',
    (b, a, r) => {
      b.drawEpsilon(a, r, { ...SAMPLE, sample: 0, step: SAMPLE.step + 1, stream: 0 });
      b.ivonUpdateFusedAndSample(a, r, { ...SAMPLE, sample: 0 }, { ...UPDATE, hessApprox: 'gradsq' }, 'epsilon');
    },
  ],
];

/**
 * Two arenas with the prior roles, on two backends, holding the same random state (δ_j in
 * [0.25, 2.25], h in [−0.2, 1.8]) over `start + count + 3` elements; kernels run on `range`.
 */
export function priorArenaPair(a: Backend, b: Backend, start: number, count: number) {
  const length = start + count + 3;
  const rng = mulberry32(44);
  const fill: Partial<Record<Role, () => number>> = {
    mean: () => rng() * 2 - 1, hess: () => rng() * 2 - 0.2, momentum: () => rng() - 0.5, grad: () => rng() * 4 - 2,
    noise: () => rng() - 0.5, gradMean: () => rng() - 0.5, curvMean: () => rng() * 0.1 - 0.05,
    priorMean: () => rng() * 2 - 1, priorPrecision: () => 0.25 + rng() * 2, epsilon: () => rng() * 4 - 2,
  };
  const arenas = [a.createArena(length, ARENA_ROLES), b.createArena(length, ARENA_ROLES)];
  for (const role of ARENA_ROLES) {
    const values = Float32Array.from({ length }, () => fill[role]?.() ?? 0);
    a.write(arenas[0], role, 0, values);
    b.write(arenas[1], role, 0, values);
  }
  const whole = { start: 0, count: length };
  return {
    arenas,
    range: { start, count },
    outputs: ['mean', 'hess', 'momentum', 'theta', 'noise', 'epsilon'] as Role[],
    read: (role: Role) => Promise.all([a.read(arenas[0], role, whole), b.read(arenas[1], role, whole)]),
    dispose: () => {
      a.destroyArena(arenas[0]);
      b.destroyArena(arenas[1]);
    },
  };
}

const uniform = (rng: () => number, n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * rng());

/** One train block of the separable quadratic ∇ = a⊙θ + b on every named parameter. */
async function quadratic(opt: IVON, terms: Record<string, { a: number[]; b: number[] }>, epsilon?: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const seen: Record<string, Float32Array> = {};
  await opt.sampledParams(
    async (ctx) => {
      for (const [name, { a, b }] of Object.entries(terms)) {
        const theta = await ctx.readTheta(name);
        seen[name] = theta;
        ctx.setGrad(name, Float32Array.from(theta, (x, i) => a[i] * x + b[i]));
      }
    },
    epsilon ? { epsilon } : {},
  );
  return seen;
}

export function definePriorSuite(label: string, makeRuntime: () => Promise<Runtime>, options: { exact: boolean }): void {
  const same = (got: Float32Array, want: Float32Array, what: string) => {
    if (options.exact) expect(bits(got), what).toEqual(bits(want));
    else relClose(got, want, 1e-5, what);
  };

  describe(`per-element prior: ${label}`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await makeRuntime();
    });
    afterAll(async () => {
      await rt?.dispose();
    });

    it('matches the float64 oracle with δ_j and μ_j (injected ε, several groups and samples, both estimators)', async () => {
      for (const hessApprox of ['price', 'gradsq'] as const) {
        const rng = mulberry32(21);
        const [n0, n1, n2] = [37, 21, 300]; // tails that are not multiples of 4 or 16, and a size the pool shards
        const a = uniform(rng, n0 + n1 + n2, 0.5, 2.5);
        const b = uniform(rng, n0 + n1 + n2, -0.5, 0.5);
        const init = uniform(rng, n0 + n1 + n2, -0.5, 0.5);
        const mu0 = uniform(rng, n0, -1, 1);
        const delta0 = uniform(rng, n0, 0.01, 2);
        const delta2 = uniform(rng, n2, 0.001, 0.5);
        const g0 = { lr: 0.05, ess: 50, hessInit: 0.5, weightDecay: 0.01, beta1: 0.9, beta2: 0.95 };
        const g1 = { lr: 0.2, ess: 500, hessInit: 2, weightDecay: 0.001, beta1: 0.8, beta2: 0.99, clipRadius: 0.05 };
        // p0: both fields; p1: no prior given (falls back to μ₀ = 0, δ = weightDecay); p2: precision only.
        const oracles = [
          new Ivon64(init.slice(0, n0), { ...g0, hessApprox, priorMean: mu0, priorPrecision: delta0 }),
          new Ivon64(init.slice(n0, n0 + n1), { ...g0, hessApprox }),
          new Ivon64(init.slice(n0 + n1), { ...g1, hessApprox, priorPrecision: delta2 }),
        ];
        const opt = new IVON(rt, {
          groups: [
            { params: { p0: init.slice(0, n0), p1: init.slice(n0, n0 + n1) }, ...g0, priorMean: { p0: mu0 }, priorPrecision: { p0: delta0 } },
            { params: { p2: init.slice(n0 + n1) }, ...g1, priorPrecision: { p2: Float32Array.from(delta2) } },
          ],
          hessApprox,
        });
        expect(opt.perElementPrior).toBe(true);
        const names = ['p0', 'p1', 'p2'];
        const offsets = [0, n0, n0 + n1];
        const terms = Object.fromEntries(names.map((name, k) => [name, { a: a.slice(offsets[k]), b: b.slice(offsets[k]) }]));
        for (let step = 0; step < 20; step++) {
          for (let s = 0; s < 1 + (step % 3); s++) {
            const eps = names.map((_, k) => Float32Array.from(oracles[k].mean, () => 2 * rng() - 1));
            oracles.forEach((o, k) => o.sample(eps[k], (t) => Array.from(t, (x, i) => a[offsets[k] + i] * x + b[offsets[k] + i])));
            await quadratic(opt, terms, Object.fromEntries(names.map((name, k) => [name, eps[k]])));
          }
          oracles.forEach((o) => o.step());
          await opt.step();
        }
        for (const [k, name] of names.entries()) {
          const s = await opt.read(name);
          relClose(s.mean, oracles[k].mean, 1e-4, `${hessApprox} ${name} mean`);
          relClose(s.hess, oracles[k].hess, 1e-4, `${hessApprox} ${name} hess`);
          relClose(s.momentum, oracles[k].momentum, 1e-4, `${hessApprox} ${name} momentum`);
          relClose(s.sigma, oracles[k].sigma(), 1e-4, `${hessApprox} ${name} sigma`);
        }
        opt.dispose();
      }
    });

    it('samples θ = m + σ(δ_j)·z from the counter-based normals, with one and with two samples per step', async () => {
      const rng = mulberry32(5);
      const n = 53;
      const a = uniform(rng, n, 0.5, 2);
      const b = uniform(rng, n, -1, 1);
      const init = uniform(rng, n, -1, 1);
      const mu = uniform(rng, n, -1, 1);
      const delta = uniform(rng, n, 0.05, 3);
      const hyper = { lr: 0.1, ess: 20, hessInit: 0.7, weightDecay: 0.02, beta1: 0.9, beta2: 0.9 };
      const oracle = new Ivon64(init, { ...hyper, priorMean: mu, priorPrecision: delta });
      const opt = new IVON(rt, { params: { w: init }, ...hyper, priorMean: { w: mu }, priorPrecision: { w: delta } });
      for (let step = 0; step < 12; step++) {
        const samples = step < 6 ? 1 : 2; // the one-sample update (ivonUpdateFused), then accumulate + ivonUpdate
        for (let s = 0; s < samples; s++) {
          const z = await rt.compute.randomNormals(0, n, s, step, 0, 0, 0);
          const want = oracle.sample(z, (t) => Array.from(t, (x, i) => a[i] * x + b[i]));
          const seen = await quadratic(opt, { w: { a, b } });
          relClose(seen.w, want, 1e-5, `step ${step} sample ${s} theta`);
        }
        oracle.step();
        await opt.step();
      }
      const s = await opt.read('w');
      relClose(s.mean, oracle.mean, 1e-4, 'mean');
      relClose(s.hess, oracle.hess, 1e-4, 'hess');
      // A prediction draw (stream 1) uses δ_j too.
      const z = await rt.compute.randomNormals(0, n, 0, 12, 1, 0, 0);
      const sigma = oracle.sigma();
      const drawn = await opt.sampledParams((ctx) => ctx.readTheta('w'), { train: false });
      relClose(drawn, Array.from(s.mean, (m, i) => m + sigma[i] * z[i]), 1e-5, 'prediction draw');
      opt.dispose();
    });

    it.each([false, true])('gives the run of no prior at all when the prior equals the defaults (μ₀ = 0, δ = weightDecay), regenerateNoise %s', async (regenerateNoise) => {
      const rng = mulberry32(9);
      const n = 300;
      const a = uniform(rng, n, 0.5, 2);
      const b = uniform(rng, n, -1, 1);
      const init = uniform(rng, n, -1, 1);
      const hyper = { lr: 0.1, ess: 40, hessInit: 0.5, weightDecay: 0.03, beta1: 0.9, beta2: 0.99, seed: 77, regenerateNoise };
      const plain = new IVON(rt, { params: { w: init }, ...hyper });
      const given = new IVON(rt, { params: { w: init }, ...hyper, priorMean: { w: new Float32Array(n) }, priorPrecision: { w: new Float32Array(n).fill(hyper.weightDecay) } });
      const later = new IVON(rt, { params: { w: init }, ...hyper });
      const runs = [plain, given, later];
      for (let step = 0; step < 8; step++) {
        if (step === 3) await later.setPrior({ precision: { w: new Float32Array(n).fill(hyper.weightDecay) } });
        for (let s = 0; s < (step === 5 ? 2 : 1); s++) {
          const seen = [];
          for (const opt of runs) seen.push((await quadratic(opt, { w: { a, b } })).w);
          same(seen[1], seen[0], `step ${step} theta (option)`);
          same(seen[2], seen[0], `step ${step} theta (setPrior)`);
        }
        for (const opt of runs) await opt.step();
      }
      const draws = [];
      for (const opt of runs) draws.push(await opt.sampledParams((ctx) => ctx.readTheta('w'), { train: false }));
      same(draws[1], draws[0], 'prediction (option)');
      same(draws[2], draws[0], 'prediction (setPrior)');
      const states = await Promise.all(runs.map((opt) => opt.read('w')));
      for (const key of ['mean', 'hess', 'momentum'] as const) {
        same(states[1][key], states[0][key], `${key} (option)`);
        same(states[2][key], states[0][key], `${key} (setPrior)`);
      }
      expect(plain.perElementPrior).toBe(false);
      expect(later.perElementPrior).toBe(true);
      runs.forEach((opt) => opt.dispose());
    });

    it('fine-tuned with priorMean = θ₀ on a quadratic, converges to the MAP (θ₀δ + Hθ*)/(H+δ) elementwise', async () => {
      const rng = mulberry32(3);
      const n = 40;
      const H = uniform(rng, n, 0.5, 2.5);
      const target = uniform(rng, n, -1, 1); // θ*: the minimum of the task loss ½Σ H(θ − θ*)²
      const theta0 = uniform(rng, n, -1, 1);
      const delta = uniform(rng, n, 0.05, 2);
      const opt = new IVON(rt, {
        params: { w: theta0 },
        lr: 0.1,
        ess: 1e5, // small σ: the sampled gradients scatter little around the mean's
        hessInit: 1,
        weightDecay: 1e-4,
        beta2: 0.9999,
        seed: 4,
        priorMean: { w: theta0 },
        priorPrecision: { w: delta },
      });
      const terms = { w: { a: H, b: H.map((h, i) => -h * target[i]) } };
      const average = new Float64Array(n);
      const steps = 1500;
      const averaged = 200;
      for (let step = 0; step < steps; step++) {
        await quadratic(opt, terms);
        await opt.step();
        if (step >= steps - averaged) (await opt.read('w')).mean.forEach((m, i) => (average[i] += m / averaged));
      }
      const map = H.map((h, i) => (theta0[i] * delta[i] + h * target[i]) / (h + delta[i]));
      for (let i = 0; i < n; i++) expect(Math.abs(average[i] - map[i]), `element ${i}`).toBeLessThan(2e-3);
      // A prior centred at 0 would land elsewhere: the test tells the two apart.
      const mapAtZero = H.map((h, i) => (h * target[i]) / (h + delta[i]));
      expect(Math.max(...map.map((m, i) => Math.abs(m - mapAtZero[i])))).toBeGreaterThan(0.05);
      opt.dispose();
    });

    it('resumes exactly from a snapshot and from checkpoint bytes; a file without a prior restores the uniform one', async () => {
      const rng = mulberry32(17);
      const n = 45;
      const a = uniform(rng, n, 0.5, 2);
      const b = uniform(rng, n, -1, 1);
      const init = uniform(rng, n, -1, 1);
      const hyper = { lr: 0.1, ess: 30, weightDecay: 0.01, beta2: 0.95, seed: 8 };
      const prior = { priorMean: { w: uniform(rng, n, -1, 1) }, priorPrecision: { w: uniform(rng, n, 0.1, 1) } };
      const first = new IVON(rt, { params: { w: init }, ...hyper, ...prior });
      for (let step = 0; step < 3; step++) {
        await quadratic(first, { w: { a, b } });
        await first.step();
      }
      const snap = await first.snapshot();
      expect(snap.tensors.w.priorMean).toBeInstanceOf(Float32Array);
      const bytes = await first.saveState();
      const fromSnapshot = new IVON(rt, { params: { w: init }, ...hyper }); // no prior: restore adds it
      const fromBytes = new IVON(rt, { params: { w: init }, ...hyper });
      await fromSnapshot.restore(snap);
      await fromBytes.loadState(bytes);
      expect(fromBytes.perElementPrior).toBe(true);
      const runs = [first, fromSnapshot, fromBytes];
      for (let step = 0; step < 4; step++) {
        for (const opt of runs) await quadratic(opt, { w: { a, b } });
        for (const opt of runs) await opt.step();
      }
      const final = await Promise.all(runs.map((opt) => opt.snapshot()));
      expect(stateBits(final[1])).toEqual(stateBits(final[0]));
      expect(stateBits(final[2])).toEqual(stateBits(final[0]));

      // A checkpoint of a run without a prior, loaded into one with a prior: the uniform prior again.
      const plain = new IVON(rt, { params: { w: init }, ...hyper });
      await quadratic(plain, { w: { a, b } });
      await plain.step();
      const plainBytes = await plain.saveState();
      const withPrior = new IVON(rt, { params: { w: init }, ...hyper, ...prior });
      await withPrior.loadState(plainBytes);
      const read = await withPrior.read('w');
      expect(bits(read.priorMean)).toEqual(bits(new Float32Array(n)));
      expect(bits(read.priorPrecision)).toEqual(bits(new Float32Array(n).fill(hyper.weightDecay)));
      for (const opt of [plain, withPrior]) {
        await quadratic(opt, { w: { a, b } });
        await opt.step();
      }
      same((await withPrior.read('w')).mean, (await plain.read('w')).mean, 'uniform prior after loading a prior-less file');
      [...runs, plain, withPrior].forEach((opt) => opt.dispose());
    });

    it('setPrior turns a posterior into the prior of further training; read() reports it', async () => {
      const rng = mulberry32(12);
      const n = 20;
      const a = uniform(rng, n, 0.5, 2);
      const b = uniform(rng, n, -1, 1);
      const hyper = { lr: 0.1, ess: 100, weightDecay: 0.005, beta2: 0.9, seed: 2 };
      const opt = new IVON(rt, { params: { w: new Float32Array(n), bias: new Float32Array(3) }, ...hyper });
      const none = await opt.read('w');
      expect(bits(none.priorMean)).toEqual(bits(new Float32Array(n)));
      expect(bits(none.priorPrecision)).toEqual(bits(new Float32Array(n).fill(hyper.weightDecay)));
      for (let step = 0; step < 30; step++) {
        await opt.sampledParams(async (ctx) => {
          ctx.setGrad('w', Float32Array.from(await ctx.readTheta('w'), (x, i) => a[i] * x + b[i]));
          ctx.setGrad('bias', new Float32Array(3));
        });
        await opt.step();
      }
      const posterior = await opt.read('w');
      // The posterior's precision in weightDecay's units is h + δ: it becomes δ of the next task.
      const precision = Float32Array.from(posterior.hess, (h) => h + hyper.weightDecay);
      await opt.setPrior({ mean: { w: posterior.mean }, precision: { w: precision } });
      const after = await opt.read('w');
      expect(bits(after.priorMean)).toEqual(bits(posterior.mean));
      expect(bits(after.priorPrecision)).toEqual(bits(precision));
      relClose(after.sigma, Array.from(after.hess, (h, i) => 1 / Math.sqrt(hyper.ess * (h + precision[i]))), 1e-7, 'sigma with δ_j');
      expect(bits((await opt.read('bias')).priorPrecision)).toEqual(bits(new Float32Array(3).fill(hyper.weightDecay)));
      // The next task (here: no data, zero gradients) pulls toward the old posterior mean; a twin
      // that kept the default prior decays toward 0 instead.
      const twin = new IVON(rt, { params: { w: new Float32Array(n), bias: new Float32Array(3) }, ...hyper });
      await twin.restore(await opt.snapshot());
      await twin.setPrior({ mean: { w: new Float32Array(n) }, precision: { w: new Float32Array(n).fill(hyper.weightDecay) } });
      for (const o of [opt, twin]) {
        for (let step = 0; step < 300; step++) {
          await o.sampledParams((ctx) => {
            ctx.setGrad('w', new Float32Array(n));
            ctx.setGrad('bias', new Float32Array(3));
          });
          await o.step();
        }
      }
      const held = (await opt.read('w')).mean;
      const decayed = (await twin.read('w')).mean;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(held[i] - posterior.mean[i]), `held ${i}`).toBeLessThan(1e-4);
        expect(Math.abs(decayed[i]), `decayed ${i}`).toBeLessThan(Math.abs(posterior.mean[i]) * 0.95);
      }
      opt.dispose();
      twin.dispose();
    });

    it('refuses bad priors with a clear error and changes nothing', async () => {
      const hyper = { lr: 0.1, ess: 1000, weightDecay: 0.01 };
      const opt = new IVON(rt, { groups: [{ params: { w: new Float32Array(5) }, ...hyper }, { params: { f: new Float32Array(2) }, ...hyper, frozen: true }] });
      await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from([1, -1, 2, 0.5, 0])));
      await opt.step();
      const before = stateBits(await opt.snapshot());
      const five = (x: number) => new Float32Array(5).fill(x);
      const bad: [string, unknown, RegExp][] = [
        ['wrong length', { mean: { w: new Float32Array(4) } }, /4 elements but the parameter has 5/],
        ['NaN mean', { mean: { w: five(NaN) } }, /not finite/],
        ['mean beyond float32', { mean: { w: [1e39, 0, 0, 0, 0] } }, /not finite in float32/],
        ['zero precision', { precision: { w: five(0) } }, /finite and > 0 in float32/],
        ['precision 0 in float32', { precision: { w: five(1e-46) } }, /0 in float32/],
        ['negative precision', { precision: { w: five(-1) } }, /finite and > 0/],
        ['infinite precision', { precision: { w: [1e39, 1, 1, 1, 1] } }, /Infinity in float32/],
        ['ess·(h+δ) overflows', { precision: { w: five(1e37) } }, /ess·\(h\+δ\)/],
        ['unknown name', { mean: { v: five(0) } }, /'v', which is not a parameter/],
        ['frozen parameter', { precision: { f: new Float32Array(2).fill(1) } }, /frozen/],
        ['not an object', 'w', /expected \{ mean/],
        ['unknown key', { means: { w: five(0) } }, /unknown key 'means'/],
        ['not a record', { mean: five(0) }, /must map parameter names/],
      ];
      for (const [what, input, message] of bad) {
        await expect(opt.setPrior(input as never), what).rejects.toThrow(UsageError);
        await expect(opt.setPrior(input as never), what).rejects.toThrow(message);
        expect(stateBits(await opt.snapshot()), what).toEqual(before);
        expect(opt.perElementPrior, what).toBe(false);
      }
      // h + δ must stay positive: a smaller δ under a negative curvature would leave σ undefined.
      // Two steps with y = (1−β₂)(ĥ−h)/(h+δ) = −1 halve h + δ each time: h = 1 → 0 → −0.5 (δ = 1).
      const negative = new IVON(rt, { params: { w: five(0) }, lr: 0, ess: 1000, hessInit: 1, weightDecay: 1, beta2: 0.5 });
      for (const [h, g] of [[1, -3 / Math.sqrt(2000)], [0, -2 / Math.sqrt(1000)]]) {
        await negative.sampledParams((ctx) => ctx.setGrad('w', five(g)), { epsilon: { w: five(1) } });
        await negative.step();
        expect((await negative.read('w')).hess[0]).toBeCloseTo(h === 1 ? 0 : -0.5, 4);
      }
      const negativeBefore = stateBits(await negative.snapshot());
      await expect(negative.setPrior({ precision: { w: five(0.25) } })).rejects.toThrow(/ess·\(h\+δ\) = -?\d/);
      expect(stateBits(await negative.snapshot())).toEqual(negativeBefore);
      await negative.setPrior({ precision: { w: five(0.75) } });
      negative.dispose();
      // Between steps only.
      await opt.sampledParams((ctx) => ctx.setGrad('w', five(0)));
      await expect(opt.setPrior({ mean: { w: five(0) } })).rejects.toThrow(/call step\(\) first/);
      await opt.step();
      let inside: unknown;
      await opt.sampledParams(async (ctx) => {
        ctx.setGrad('w', five(0));
        inside = await opt.setPrior({ mean: { w: five(0) } }).catch((e: unknown) => e);
      });
      expect(inside).toBeInstanceOf(UsageError);
      expect(String(inside)).toMatch(/inside a sampled block/);
      opt.dispose();
    });

    it('refuses bad prior options at construction with a ConfigError', () => {
      const base = { params: { w: new Float32Array(4) }, lr: 0.1, ess: 10 };
      const cases: [string, object, RegExp][] = [
        ['wrong length', { ...base, priorMean: { w: [1, 2] } }, /priorMean 'w' has 2 elements/],
        ['NaN precision', { ...base, priorPrecision: { w: [1, NaN, 1, 1] } }, /priorPrecision 'w'\[1\]/],
        ['precision 0 in float32', { ...base, priorPrecision: { w: [1, 1, 1e-50, 1] } }, /0 in float32/],
        ['unknown name', { ...base, priorMean: { x: [0, 0, 0, 0] } }, /'x', which is not a parameter/],
        ['frozen', { ...base, frozen: true, priorMean: { w: [0, 0, 0, 0] } }, /frozen/],
        ['not a record', { ...base, priorPrecision: [1, 1, 1, 1] }, /must map parameter names/],
        ['optimizer-wide with groups', { groups: [{ params: { w: new Float32Array(4) }, lr: 0.1, ess: 10 }], priorMean: { w: [0, 0, 0, 0] } }, /inside each group/],
        [
          'another group’s parameter',
          { groups: [{ params: { w: new Float32Array(4) }, lr: 0.1, ess: 10, priorMean: { v: [0, 0] } }, { params: { v: new Float32Array(2) }, lr: 0.1, ess: 10 }] },
          /another group/,
        ],
      ];
      for (const [what, options, message] of cases) {
        expect(() => new IVON(rt, options as never), what).toThrow(ConfigError);
        expect(() => new IVON(rt, options as never), what).toThrow(message);
      }
    });
  });
}
