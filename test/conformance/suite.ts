// The conformance suite every backend must pass (js, wasm, wasm with workers, webgpu): IVON.md's
// golden vectors and invariants, AdamW/SGD against float64 references, RNG statistics, exact
// resume and the bad-input contract. Each backend's test file calls defineConformanceSuite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, ConfigError, IVON, NonFiniteGradientError, SGD, UsageError, type Runtime } from '../../src/index.js';
import { EPSILON, GOLDEN, HYPER, THETA0, gradient } from '../oracle/golden.js';
import { Ivon64 } from '../oracle/ivon64.js';
import { mulberry32, normalCdf, ksStatistic } from './helpers.js';

type Opt = IVON | AdamW | SGD;

/** Runs one train block on a separable quadratic: grad_i = a_i θ_i + b_i. */
async function quadraticBlock(opt: Opt, a: number[], b: number[], name = 'w', epsilon?: Float32Array) {
  await opt.sampledParams(
    async (ctx) => {
      const theta = await ctx.readTheta(name);
      ctx.setGrad(name, Float32Array.from(theta, (x, i) => a[i] * x + b[i]));
    },
    epsilon ? { epsilon: { [name]: epsilon } } : {},
  );
}

export function relClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, label = ''): void {
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.max(1, Math.abs(want[i]));
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      throw new Error(`${label}[${i}]: got ${got[i]}, want ${want[i]} (tolerance ${tol})`);
    }
  }
}

export function defineConformanceSuite(label: string, makeRuntime: () => Promise<Runtime>): void {
  describe(`conformance: ${label}`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await makeRuntime();
    });
    afterAll(async () => {
      await rt?.dispose();
    });

    it('reproduces the golden vectors of IVON.md §7 (float32, 1e-5)', async () => {
      const opt = new IVON(rt, { params: { w: Float32Array.from(THETA0) }, ...HYPER });
      for (let s = 0; s < GOLDEN.length; s++) {
        let theta: Float32Array = new Float32Array(0);
        await opt.sampledParams(
          async (ctx) => {
            theta = await ctx.readTheta('w');
            ctx.setGrad('w', Float32Array.from(gradient(theta)));
          },
          { epsilon: { w: Float32Array.from(EPSILON[s]) } },
        );
        relClose(theta, GOLDEN[s].theta, 1e-5, `step ${s + 1} theta`);
        await opt.step();
        const state = await opt.read('w');
        relClose(state.mean, GOLDEN[s].mean, 1e-5, `step ${s + 1} mean`);
        relClose(state.hess, GOLDEN[s].hess, 1e-5, `step ${s + 1} hess`);
        relClose(state.momentum, GOLDEN[s].momentum, 1e-5, `step ${s + 1} momentum`);
      }
      expect(opt.stepCount).toBe(3);
      opt.dispose();
    });

    it('matches the float64 oracle over 20 steps with several groups, samples and both curvature estimators', async () => {
      for (const hessApprox of ['price', 'gradsq'] as const) {
        const rng = mulberry32(7);
        const n0 = 37; // not a multiple of 16: exercises padding and kernel tails
        const n1 = 21;
        const a = Array.from({ length: n0 + n1 }, () => 0.5 + 2 * rng());
        const b = Array.from({ length: n0 + n1 }, () => rng() - 0.5);
        const init0 = Array.from({ length: n0 }, () => rng() - 0.5);
        const init1 = Array.from({ length: n1 }, () => rng() - 0.5);
        const g0 = { lr: 0.05, ess: 50, hessInit: 0.5, weightDecay: 0.01, beta1: 0.9, beta2: 0.95 };
        const g1 = { lr: 0.2, ess: 500, hessInit: 2, weightDecay: 0.001, beta1: 0.8, beta2: 0.99, clipRadius: 0.05 };
        const o0 = new Ivon64(init0, { ...g0, hessApprox });
        const o1 = new Ivon64(init1, { ...g1, hessApprox });
        const opt = new IVON(rt, {
          groups: [
            { params: { p0: Float32Array.from(init0) }, ...g0 },
            { params: { p1: Float32Array.from(init1) }, ...g1 },
          ],
          hessApprox,
          mcSamples: 3,
        });
        for (let step = 0; step < 20; step++) {
          const samples = 1 + (step % 3);
          for (let s = 0; s < samples; s++) {
            const e0 = Float32Array.from({ length: n0 }, () => 2 * rng() - 1);
            const e1 = Float32Array.from({ length: n1 }, () => 2 * rng() - 1);
            o0.sample(e0, (t) => Array.from(t, (x, i) => a[i] * x + b[i]));
            o1.sample(e1, (t) => Array.from(t, (x, i) => a[n0 + i] * x + b[n0 + i]));
            await opt.sampledParams(
              async (ctx) => {
                ctx.setGrad('p0', Float32Array.from(await ctx.readTheta('p0'), (x, i) => a[i] * x + b[i]));
                ctx.setGrad('p1', Float32Array.from(await ctx.readTheta('p1'), (x, i) => a[n0 + i] * x + b[n0 + i]));
              },
              { epsilon: { p0: e0, p1: e1 } },
            );
          }
          o0.step();
          o1.step();
          await opt.step();
        }
        const s0 = await opt.read('p0');
        const s1 = await opt.read('p1');
        relClose(s0.mean, o0.mean, 1e-4, `${hessApprox} p0 mean`);
        relClose(s0.hess, o0.hess, 1e-4, `${hessApprox} p0 hess`);
        relClose(s1.mean, o1.mean, 1e-4, `${hessApprox} p1 mean`);
        relClose(s1.momentum, o1.momentum, 1e-4, `${hessApprox} p1 momentum`);
        opt.dispose();
      }
    });

    it('keeps h + δ > 0 under adversarial curvature, matching (h+δ)(1 + y + y²/2)', async () => {
      const wd = 1e-3;
      const opt = new IVON(rt, { params: { w: new Float32Array(64) }, lr: 0.1, ess: 1, hessInit: 1, weightDecay: wd, beta2: 0.5 });
      let prev = (await opt.read('w')).hess;
      for (let step = 0; step < 30; step++) {
        // ε = 1 and a huge negative gradient: n·g ≪ 0, so ĥ is hugely negative.
        await opt.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(64).fill(-1e6)), { epsilon: { w: new Float32Array(64).fill(1) } });
        await opt.step();
        const { hess, sigma } = await opt.read('w');
        for (let i = 0; i < 64; i += 21) {
          expect(hess[i] + wd).toBeGreaterThan(0);
          expect(Number.isFinite(sigma[i])).toBe(true);
          expect(hess[i] + wd).toBeGreaterThanOrEqual((prev[i] + wd) / 2 - 1e-12);
        }
        prev = hess;
      }
      // The closed form on one step from h = 1: ĥ = λ(h+δ)·a with a = σ·g.
      const fresh = new IVON(rt, { params: { w: new Float32Array(16) }, lr: 0, ess: 2, hessInit: 1, weightDecay: wd, beta2: 0.7 });
      await fresh.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(16).fill(-3)), { epsilon: { w: new Float32Array(16).fill(1) } });
      await fresh.step();
      const h0 = 1;
      const sigma = 1 / Math.sqrt(2 * (h0 + wd));
      const hhat = 2 * (h0 + wd) * sigma * -3;
      const y = ((1 - 0.7) * (hhat - h0)) / (h0 + wd);
      const want = (h0 + wd) * (1 + y + (y * y) / 2) - wd;
      relClose((await fresh.read('w')).hess, new Array(16).fill(want), 1e-5, 'closed form');
      opt.dispose();
      fresh.dispose();
    });

    it('bounds every coordinate move by α·r with clipping', async () => {
      const r = 1e-3;
      const lr = 0.5;
      const wd = 1e-4;
      const opt = new IVON(rt, { params: { w: new Float32Array(48).fill(1) }, lr, ess: 100, clipRadius: r, weightDecay: wd });
      for (let step = 0; step < 5; step++) {
        const before = (await opt.read('w')).mean;
        await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from({ length: 48 }, (_, i) => (i % 2 ? 1e3 : -1e3))));
        await opt.step();
        const after = (await opt.read('w')).mean;
        const alpha = lr * (1 + wd);
        // float32 weights near 1 round the move to a multiple of ulp(1) ≈ 1.2e-7
        for (let i = 0; i < 48; i++) expect(Math.abs(after[i] - before[i])).toBeLessThanOrEqual(alpha * r + 2.5e-7);
        expect(Math.abs(after[0] - before[0])).toBeGreaterThan(alpha * r - 2.5e-7);
      }
      opt.dispose();
    });

    it('takes the debiased-momentum SGD step first when h stays at h0 (β₂ = 1)', async () => {
      const init = [0.3, -0.7, 1.1];
      const g = [0.5, -1.5, 2.0];
      const lr = 0.05;
      const wd = 0.01;
      const opt = new IVON(rt, { params: { w: Float32Array.from(init) }, lr, ess: 10, beta2: 1, weightDecay: wd });
      await opt.sampledParams((ctx) => ctx.setGrad('w', Float32Array.from(g)));
      await opt.step();
      relClose((await opt.read('w')).mean, init.map((m, i) => m - lr * (g[i] + wd * m)), 1e-6, 'first step');
      opt.dispose();
    });

    it('recovers the posterior of a non-diagonal quadratic: h → diag A, m → −(A+δI)⁻¹b', async () => {
      const A = [
        [2.0, 0.5, 0.0],
        [0.5, 1.0, 0.3],
        [0.0, 0.3, 0.5],
      ];
      const b = [1, -1, 0.5];
      const wd = 0.01;
      const ess = 200;
      const opt = new IVON(rt, { params: { w: new Float32Array(3) }, lr: 0.1, ess, hessInit: 0.2, weightDecay: wd, beta2: 0.99, seed: 11 });
      for (let step = 0; step < 400; step++) {
        for (let s = 0; s < 16; s++) {
          await opt.sampledParams(async (ctx) => {
            const t = await ctx.readTheta('w');
            ctx.setGrad('w', Float32Array.from(A.map((row, i) => row[0] * t[0] + row[1] * t[1] + row[2] * t[2] + b[i])));
          });
        }
        await opt.step();
      }
      const { mean, hess } = await opt.read('w');
      const want = solve3(A.map((row, i) => row.map((v, j) => v + (i === j ? wd : 0))), b.map((x) => -x));
      relClose(mean, want, 0.05, 'posterior mean');
      relClose(hess, [A[0][0], A[1][1], A[2][2]], 0.15, 'posterior curvature');
      opt.dispose();
    });

    it('averages several samples per step exactly as Welford over the oracle (and train: false adds nothing)', async () => {
      const hyper = { lr: 0.1, ess: 20, hessInit: 1, weightDecay: 0.01, beta1: 0.9, beta2: 0.9 };
      const oracle = new Ivon64(THETA0, hyper);
      const opt = new IVON(rt, { params: { w: Float32Array.from(THETA0) }, ...hyper });
      const eps = [
        [0.1, 0.2, -0.3],
        [1.1, -0.4, 0.5],
        [-0.9, 0.8, 0.05],
      ];
      for (const e of eps) {
        oracle.sample(e, gradient);
        await quadraticBlock(opt, [3, 1, 0.5], [1, -2, 0.5], 'w', Float32Array.from(e));
        // A prediction draw between train samples must not change the step.
        await opt.sampledParams((ctx) => ctx.readTheta('w'), { train: false });
      }
      oracle.step();
      await opt.step();
      const s = await opt.read('w');
      relClose(s.mean, oracle.mean, 1e-5, 'mean');
      relClose(s.hess, oracle.hess, 1e-5, 'hess');
      opt.dispose();
    });

    it('reports state and restores the means after a block, also when it throws', async () => {
      const opt = new IVON(rt, { params: { w: Float32Array.from(THETA0) }, ...HYPER });
      await expect(
        opt.sampledParams((ctx) => {
          ctx.setGrad('w', new Float32Array(3).fill(5));
          throw new Error('model blew up');
        }),
      ).rejects.toThrow('model blew up');
      relClose((await opt.read('w')).mean, THETA0, 0, 'mean after throw');
      await expect(opt.step()).rejects.toThrow(UsageError);
      expect(opt.stepCount).toBe(0);
      await quadraticBlock(opt, [3, 1, 0.5], [1, -2, 0.5], 'w', Float32Array.from(EPSILON[0]));
      await opt.step();
      relClose((await opt.read('w')).mean, GOLDEN[0].mean, 1e-5, 'usable after throw');
      opt.dispose();
    });

    it('resumes exactly from a snapshot (bit-identical)', async () => {
      const make = () => new IVON(rt, { params: { w: new Float32Array(40).fill(0.5) }, lr: 0.1, ess: 100, seed: 5, mcSamples: 2 });
      const run = async (opt: IVON, steps: number) => {
        for (let i = 0; i < steps; i++) {
          for (let s = 0; s < 2; s++) await quadraticBlock(opt, new Array(40).fill(1.5), new Array(40).fill(-0.3));
          await opt.step();
        }
      };
      const straight = make();
      await run(straight, 6);
      const first = make();
      await run(first, 2);
      const snap = await first.snapshot();
      const resumed = make();
      await resumed.restore(snap);
      expect(resumed.stepCount).toBe(2);
      await run(resumed, 4);
      const a = await straight.read('w');
      const b2 = await resumed.read('w');
      expect(Array.from(b2.mean)).toEqual(Array.from(a.mean));
      expect(Array.from(b2.hess)).toEqual(Array.from(a.hess));
      [straight, first, resumed].forEach((o) => o.dispose());
    });

    it('round-trips state through checkpoint bytes; a corrupt or mismatched file changes nothing', async () => {
      const make = (seed: number) => new IVON(rt, { params: { w: new Float32Array(20).fill(0.1), v: new Float32Array(3) }, lr: 0.1, ess: 30, seed });
      const opt = make(1);
      for (let i = 0; i < 3; i++) {
        await opt.sampledParams(async (ctx) => {
          ctx.setGrad('w', Float32Array.from(await ctx.readTheta('w'), (x) => 2 * x - 1));
          ctx.setGrad('v', Float32Array.from(await ctx.readTheta('v'), (x) => x + 0.5));
        });
        await opt.step();
      }
      const bytes = await opt.saveState();
      const other = make(2);
      const before = await other.snapshot();
      const truncated = bytes.slice(0, bytes.length - 5);
      await expect(other.loadState(truncated)).rejects.toThrow(/CheckpointError|truncat|length|bytes/i);
      const mismatched = await new IVON(rt, { params: { w: new Float32Array(21) }, lr: 0.1, ess: 30 }).saveState();
      await expect(other.loadState(mismatched)).rejects.toThrow(/w/);
      const after = await other.snapshot();
      expect(Array.from(after.tensors.w.mean)).toEqual(Array.from(before.tensors.w.mean));
      expect(after.step).toBe(0);
      await other.loadState(bytes);
      expect(other.stepCount).toBe(3);
      expect(other.seed).toBe(1);
      const a = await opt.read('w');
      const b = await other.read('w');
      expect(Array.from(b.mean)).toEqual(Array.from(a.mean));
      expect(Array.from(b.hess)).toEqual(Array.from(a.hess));
      opt.dispose();
      other.dispose();
    });

    it('gives the same result whether the noise is stored or regenerated in the update', async () => {
      const run = async (regenerateNoise: boolean) => {
        const opt = new IVON(rt, {
          groups: [{ params: { p: Float32Array.from({ length: 45 }, (_, i) => Math.cos(i)) } }, { params: { q: new Float32Array(7).fill(0.3) }, hessInit: 2 }],
          lr: 0.1, ess: 80, beta2: 0.99, seed: 77, regenerateNoise,
        });
        for (let step = 0; step < 6; step++) {
          const samples = step % 3 === 2 ? 2 : 1; // the fused path and the accumulated path
          for (let s = 0; s < samples; s++) {
            await opt.sampledParams(async (ctx) => {
              ctx.setGrad('p', (await ctx.readTheta('p')).map((x, i) => (1 + (i % 4)) * x - 0.2));
              ctx.setGrad('q', (await ctx.readTheta('q')).map((x) => 3 * x + 1));
            });
            // A prediction draw between a train sample and the step must not disturb it.
            await opt.sampledParams((ctx) => ctx.readTheta('p'), { train: false });
          }
          await opt.step();
        }
        const state = [...(await opt.read('p')).mean, ...(await opt.read('q')).hess];
        opt.dispose();
        return Float32Array.from(state);
      };
      const stored = await run(false);
      const regenerated = await run(true);
      if (rt.backend === 'webgpu') relClose(regenerated, stored, 1e-6, 'regenerated vs stored');
      else expect(Array.from(regenerated)).toEqual(Array.from(stored));
    });

    it('draws normals with the right moments and a passing Kolmogorov–Smirnov test', async () => {
      const z = await rt.compute.randomNormals(12345, 200_000, 0, 3, 0, 99, 0);
      let m = 0;
      let m2 = 0;
      let m4 = 0;
      for (const x of z) {
        m += x;
        m2 += x * x;
        m4 += x ** 4;
      }
      const n = z.length;
      expect(Math.abs(m / n)).toBeLessThan(0.01);
      expect(Math.abs(m2 / n - 1)).toBeLessThan(0.015);
      expect(Math.abs(m4 / n - 3)).toBeLessThan(0.08);
      const d = ksStatistic(Array.from(z.subarray(0, 50_000)), normalCdf);
      expect(d).toBeLessThan(1.63 / Math.sqrt(50_000)); // 1% critical value
    });

    it('gives the same normals for any sub-range as for the whole', async () => {
      const whole = await rt.compute.randomNormals(0, 1000, 2, 7, 0, 1, 2);
      for (const [first, count] of [
        [0, 1],
        [3, 17],
        [16, 64],
        [333, 667],
        [999, 1],
      ]) {
        const part = await rt.compute.randomNormals(first, count, 2, 7, 0, 1, 2);
        expect(Array.from(part)).toEqual(Array.from(whole.subarray(first, first + count)));
      }
    });

    it('matches float64 AdamW and SGD references', async () => {
      const rng = mulberry32(3);
      const n = 29;
      const init = Array.from({ length: n }, () => rng() - 0.5);
      const a = Array.from({ length: n }, () => 0.5 + rng());
      const bb = Array.from({ length: n }, () => rng() - 0.5);
      const adam = new AdamW(rt, { params: { w: Float32Array.from(init) }, lr: 0.01, weightDecay: 0.1 });
      const sgd = new SGD(rt, { params: { w: Float32Array.from(init) }, lr: 0.05, momentum: 0.9, weightDecay: 0.01 });
      const p = Float64Array.from(init);
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      const q = Float64Array.from(init);
      const buf = new Float64Array(n);
      for (let t = 1; t <= 15; t++) {
        for (let i = 0; i < n; i++) {
          const g = a[i] * p[i] + bb[i];
          p[i] *= 1 - 0.01 * 0.1;
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.999 * v[i] + 0.001 * g * g;
          p[i] -= (0.01 / (1 - 0.9 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
          const gs = a[i] * q[i] + bb[i] + 0.01 * q[i];
          buf[i] = 0.9 * buf[i] + gs;
          q[i] -= 0.05 * buf[i];
        }
        await quadraticBlock(adam, a, bb);
        await adam.step();
        await quadraticBlock(sgd, a, bb);
        await sgd.step();
      }
      relClose((await adam.readTensors('w')).mean, p, 1e-5, 'adamw');
      relClose((await sgd.readTensors('w')).mean, q, 1e-5, 'sgd');
      adam.dispose();
      sgd.dispose();
    });

    describe('bad input: a clear error, state unchanged, optimizer still usable', () => {
      const base = { params: { w: Float32Array.from(THETA0) }, ...HYPER };
      it.each([
        [{ lr: -1 }, /lr must be a finite number ≥ 0, got -1/],
        [{ lr: NaN }, /lr must be .*got NaN/],
        [{ ess: 0 }, /ess must be a finite number > 0/],
        [{ hessInit: -0.1 }, /hessInit/],
        [{ weightDecay: -1e-3 }, /weightDecay/],
        [{ beta1: 1 }, /beta1 must be in \[0, 1\)/],
        [{ beta2: 1.5 }, /beta2 must be in \[0, 1\]/],
        [{ clipRadius: 0 }, /clipRadius/],
        [{ mcSamples: 1.5 }, /mcSamples must be an integer ≥ 1/],
        [{ hessApprox: 'fisher' }, /hessApprox must be one of 'price', 'gradsq'/],
        [{ learningRate: 0.1 }, /unknown option 'learningRate'/],
        [{ seed: -1 }, /seed/],
      ])('rejects %j', (override, message) => {
        expect(() => new IVON(rt, { ...base, ...(override as object) })).toThrow(message);
        expect(() => new IVON(rt, { ...base, ...(override as object) })).toThrow(ConfigError);
      });

      it('validates group overrides and requires lr and ess', () => {
        expect(() => new IVON(rt, { groups: [{ params: { w: new Float32Array(2) }, lr: 0.1, ess: 1, beta1: 2 }] })).toThrow(/groups\[0\]: beta1/);
        expect(() => new IVON(rt, { params: { w: new Float32Array(2) }, ess: 1 })).toThrow(/lr is required/);
        expect(() => new IVON(rt, { params: { w: new Float32Array(2) }, lr: 1 })).toThrow(/ess is required/);
        expect(() => new IVON(rt, { params: { w: new Float32Array([1, NaN]) }, lr: 1, ess: 1 })).toThrow(/non-finite initial value/);
        expect(() => new IVON(rt, { groups: [{ params: { w: new Float32Array(2) } }, { params: { w: new Float32Array(2) } }], lr: 1, ess: 1 })).toThrow(/appears twice/);
      });

      it('names unknown parameters, wrong gradient lengths and missing gradients', async () => {
        const opt = new IVON(rt, { params: { w: new Float32Array(3), v: new Float32Array(5) }, lr: 0.1, ess: 10 });
        await expect(opt.sampledParams((ctx) => ctx.setGrad('nope', new Float32Array(1)))).rejects.toThrow(/unknown parameter; known parameters are w, v/);
        await expect(opt.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(4)))).rejects.toThrow(/expected a Float32Array of 3 elements/);
        await expect(opt.sampledParams((ctx) => void ctx.setGrad('w', new Float32Array(3)))).rejects.toThrow(/no gradient was provided for trainable parameter\(s\) 'v'/);
        await expect(opt.step()).rejects.toThrow(/needs at least one sampledParams/);
        expect(opt.stepCount).toBe(0);
        await opt.sampledParams((ctx) => {
          ctx.setGrad('w', new Float32Array(3).fill(1));
          ctx.setGrad('v', new Float32Array(5).fill(1));
        });
        await opt.step();
        expect(opt.stepCount).toBe(1);
        opt.dispose();
      });

      it('refuses step() inside a block, nested blocks and grads in train: false blocks', async () => {
        const opt = new IVON(rt, { ...base });
        await expect(opt.sampledParams(async () => opt.step())).rejects.toThrow(/inside a sampled block/);
        await expect(opt.sampledParams(async () => opt.sampledParams(() => 0))).rejects.toThrow(/cannot be nested/);
        await expect(opt.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(3)), { train: false })).rejects.toThrow(/train: false block/);
        expect(opt.stepCount).toBe(0);
        await quadraticBlock(opt, [3, 1, 0.5], [1, -2, 0.5], 'w', Float32Array.from(EPSILON[0]));
        await opt.step();
        relClose((await opt.read('w')).mean, GOLDEN[0].mean, 1e-5, 'after misuse');
        opt.dispose();
      });

      it('catches non-finite gradients before any state changes, or skips and counts them', async () => {
        const opt = new IVON(rt, { ...base });
        const before = await opt.snapshot();
        const err = await opt
          .sampledParams((ctx) => ctx.setGrad('w', new Float32Array([1, NaN, Infinity])))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NonFiniteGradientError);
        expect((err as NonFiniteGradientError).counts).toEqual({ w: 2 });
        expect((err as Error).message).toMatch(/non-finite gradient in 'w' \(2 entries\)/);
        await expect(opt.step()).rejects.toThrow(UsageError);
        const after = await opt.snapshot();
        expect(Array.from(after.tensors.w.hess!)).toEqual(Array.from(before.tensors.w.hess!));
        await quadraticBlock(opt, [3, 1, 0.5], [1, -2, 0.5], 'w', Float32Array.from(EPSILON[0]));
        await opt.step();
        relClose((await opt.read('w')).mean, GOLDEN[0].mean, 1e-5, 'after NaN');

        const skipping = new IVON(rt, { ...base, nonFinite: 'skip' });
        await skipping.sampledParams((ctx) => ctx.setGrad('w', new Float32Array([NaN, 0, 0])));
        expect(await skipping.step()).toEqual({ skipped: true, step: 0 });
        expect(skipping.skippedSteps).toBe(1);
        relClose((await skipping.read('w')).mean, THETA0, 0, 'skipped step leaves mean');
        await quadraticBlock(skipping, [3, 1, 0.5], [1, -2, 0.5], 'w', Float32Array.from(EPSILON[0]));
        await skipping.step();
        relClose((await skipping.read('w')).mean, GOLDEN[0].mean, 1e-5, 'after skip');
        opt.dispose();
        skipping.dispose();
      });

      it('excludes frozen groups from noise, decay and updates', async () => {
        const frozen = Float32Array.from([0.25, -0.5]);
        const opt = new IVON(rt, {
          groups: [{ params: { emb: frozen }, frozen: true }, { params: { w: Float32Array.from(THETA0) } }],
          ...HYPER,
        });
        await opt.sampledParams(
          async (ctx) => {
            expect(Array.from(await ctx.readTheta('emb'))).toEqual(Array.from(frozen));
            expect(() => ctx.setGrad('emb', new Float32Array(2))).toThrow(/frozen/);
            ctx.setGrad('w', Float32Array.from(gradient(await ctx.readTheta('w'))));
          },
          { epsilon: { w: Float32Array.from(EPSILON[0]) } },
        );
        await opt.step();
        expect(Array.from((await opt.read('emb')).mean)).toEqual(Array.from(frozen));
        relClose((await opt.read('w')).mean, GOLDEN[0].mean, 1e-5, 'trainable group');
        opt.dispose();
      });
    });
  });
}

function solve3(m: number[][], v: number[]): number[] {
  const det = (a: number[][]) =>
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const d = det(m);
  return [0, 1, 2].map((col) => det(m.map((row, i) => row.map((x, j) => (j === col ? v[i] : x)))) / d);
}
