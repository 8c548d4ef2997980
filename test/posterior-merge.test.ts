// mergePosteriors and loadPosterior. (1) The merge equals the float64 minimiser of the merged
// quadratic objective Σ_t α·½H_t(θ − c_t)² + ½H₀(θ − θ₀)² — a different algebra from the formula —
// for posteriors built exactly. (2) Real IVON fine-tunes of quadratic task losses (antithetic ε = ±1
// through the ε test hook, so ḡ and the price curvature are exact and IVON converges to the
// posterior deterministically) merge to that minimiser within 1e-6; θ₀ = 0 there, where weight
// decay already is the prior centred at θ₀. (3) On digits, the merge of two fine-tunes (labels 0–4,
// 5–9) beats plain averaging on the union of their test rows over 5 seeds. (4) Bad input fails
// with a clear error and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterLabels, loadDigits, subset, trainTestSplit } from '../src/cli/digits.js';
import { AdamW, createRuntime, fit, IVON, loadPosterior, mergePosteriors, mlp, posteriorOf, predictAtMean, relu, type Posterior, type Runtime } from '../src/index.js';
import { permutation, Rng } from '../src/nn/random.js';
import { createNnOps } from '../src/nn/runtime-ops.js';

const SHAPES = { w: [5], b: [2, 3] } as const;
type Name = keyof typeof SHAPES;
const NAMES = Object.keys(SHAPES) as Name[];
const count = (n: Name) => SHAPES[n].reduce((a, b) => a * b, 1);

interface QuadraticTask {
  ess: number;
  /** Curvature a (IVON units) and centre c of ℓ_t(θ) = ½ Σ a(θ − c)², per parameter. */
  a: Record<Name, Float64Array>;
  c: Record<Name, Float64Array>;
}

function tasks(seed: number, ess: number[], centreScale = 2): QuadraticTask[] {
  const rng = new Rng(seed);
  return ess.map((e) => ({
    ess: e,
    a: Object.fromEntries(NAMES.map((n) => [n, Float64Array.from({ length: count(n) }, () => 0.3 + 2 * rng.uniform())])) as Record<Name, Float64Array>,
    c: Object.fromEntries(NAMES.map((n) => [n, Float64Array.from({ length: count(n) }, () => centreScale * rng.normal())])) as Record<Name, Float64Array>,
  }));
}

/** argmin Σ_t α·½·ess_t·a_t(θ − c_t)² + ½H₀(θ − θ₀)², elementwise, float64. */
function mergedMinimiser(ts: QuadraticTask[], h0: number, theta0: Record<Name, ArrayLike<number>>, alpha: number, name: Name): Float64Array {
  return Float64Array.from({ length: count(name) }, (_, j) => {
    let num = h0 * theta0[name][j];
    let den = h0;
    for (const t of ts) {
      num += alpha * t.ess * t.a[name][j] * t.c[name][j];
      den += alpha * t.ess * t.a[name][j];
    }
    return num / den;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('mergePosteriors against closed forms', () => {
  it('equals the float64 minimiser of the merged quadratic objective for exact task posteriors', () => {
    const H0 = 3;
    const ts = tasks(1, [50, 120, 400]);
    const rng = new Rng(2);
    const theta0 = Object.fromEntries(NAMES.map((n) => [n, Float32Array.from({ length: count(n) }, () => rng.normal())])) as Record<Name, Float32Array>;
    const base: Posterior = {
      params: Object.fromEntries(NAMES.map((n) => [n, { shape: [...SHAPES[n]], mean: theta0[n], hess: new Float32Array(count(n)).fill(1), priorPrecision: new Float32Array(count(n)).fill(0.1), priorMean: new Float32Array(count(n)), ess: 10 }])),
    };
    // Task t fine-tuned from θ₀ with prior precision H₀: mean (H₀θ₀ + H_t c)/(H₀ + H_t), h = a, δ = H₀/ess.
    const posts: Posterior[] = ts.map((t) => ({
      params: Object.fromEntries(
        NAMES.map((n) => {
          const mean = Float32Array.from({ length: count(n) }, (_, j) => (H0 * theta0[n][j] + t.ess * t.a[n][j] * t.c[n][j]) / (H0 + t.ess * t.a[n][j]));
          return [n, { shape: [...SHAPES[n]], mean, hess: Float32Array.from(t.a[n]), priorPrecision: new Float32Array(count(n)).fill(H0 / t.ess), priorMean: Float32Array.from(theta0[n]), ess: t.ess }];
        }),
      ),
    }));
    for (const alpha of [1, 0.5, 2]) {
      const merged = mergePosteriors(base, posts, { scale: alpha });
      for (const n of NAMES) {
        const want = mergedMinimiser(ts, H0, theta0, alpha, n);
        expect(maxAbsDiff(merged.params[n].mean, want)).toBeLessThan(1e-6);
        const p = merged.params[n];
        expect(p.ess).toBe(570);
        expect(Array.from(p.priorMean)).toEqual(Array.from(theta0[n]));
        // Its precision is H̄ = H₀ + α Σ_t H_t.
        for (let j = 0; j < count(n); j++) {
          const hbar = H0 + alpha * ts.reduce((s, t) => s + t.ess * t.a[n][j], 0);
          expect(Math.abs(p.ess * (p.hess[j] + p.priorPrecision[j]) - hbar) / hbar).toBeLessThan(1e-6);
        }
      }
    }
  });

  it("mode 'product': the precision-weighted product of posteriors from one shared prior is the posterior of all the data", () => {
    const P0 = 3;
    const ts = tasks(7, [50, 120, 400]);
    const rng = new Rng(8);
    const mu0 = Object.fromEntries(NAMES.map((n) => [n, Float32Array.from({ length: count(n) }, () => rng.normal())])) as Record<Name, Float32Array>;
    const posts: Posterior[] = ts.map((t) => ({
      params: Object.fromEntries(
        NAMES.map((n) => {
          const mean = Float32Array.from({ length: count(n) }, (_, j) => (P0 * mu0[n][j] + t.ess * t.a[n][j] * t.c[n][j]) / (P0 + t.ess * t.a[n][j]));
          return [n, { shape: [...SHAPES[n]], mean, hess: Float32Array.from(t.a[n]), priorPrecision: new Float32Array(count(n)).fill(P0 / t.ess), priorMean: Float32Array.from(mu0[n]), ess: t.ess }];
        }),
      ),
    }));
    const product = mergePosteriors(posts[0], posts, { mode: 'product' });
    for (const n of NAMES) {
      expect(maxAbsDiff(product.params[n].mean, mergedMinimiser(ts, P0, mu0, 1, n))).toBeLessThan(1e-6);
      const p = product.params[n];
      for (let j = 0; j < count(n); j++) {
        const want = P0 + ts.reduce((s, t) => s + t.ess * t.a[n][j], 0);
        expect(Math.abs(p.ess * (p.hess[j] + p.priorPrecision[j]) - want) / want).toBeLessThan(1e-6);
      }
    }
    expect(() => mergePosteriors(posts[0], posts, { mode: 'product', scale: 1 } as never)).toThrow(/scale is for mode 'fine-tuned'/);
    expect(() => mergePosteriors(posts[0], posts, { mode: 'average' } as never)).toThrow(/mode must be 'fine-tuned' \(default\) or 'product'/);
  });

  describe('on IVON fine-tunes', () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await createRuntime({ backend: 'js' });
    });
    afterAll(async () => rt.dispose());

    /**
     * Fine-tunes a quadratic task from θ₀ with the prior N(θ₀, 1/H₀): priorMean θ₀ (when given) and
     * weight decay δ = H₀/ess.
     */
    async function fineTune(t: QuadraticTask, H0: number, theta0?: Record<Name, Float32Array>): Promise<IVON> {
      const params = Object.fromEntries(NAMES.map((n) => [n, theta0 ? theta0[n].slice() : new Float32Array(count(n))]));
      const prior = theta0 ? { priorMean: { w: theta0.w, b: theta0.b } } : {};
      const opt = new IVON(rt, { params, shapes: { w: [...SHAPES.w], b: [...SHAPES.b] }, lr: 0.5, ess: t.ess, weightDecay: H0 / t.ess, beta1: 0, beta2: 0, hessInit: 1, ...prior });
      const ones = Object.fromEntries(NAMES.map((n) => [n, new Float32Array(count(n)).fill(1)]));
      const minusOnes = Object.fromEntries(NAMES.map((n) => [n, new Float32Array(count(n)).fill(-1)]));
      for (let step = 0; step < 150; step++) {
        for (const epsilon of [ones, minusOnes]) {
          await opt.sampledParams(
            (ctx) => {
              for (const n of NAMES) {
                const theta = ctx.theta(n);
                ctx.setGrad(n, Float32Array.from(theta, (v, j) => t.a[n][j] * (v - t.c[n][j])));
              }
            },
            { epsilon },
          );
        }
        await opt.step();
      }
      return opt;
    }

    it('three tasks fine-tuned with IVON merge to the minimiser of the merged objective within 1e-6', async () => {
      // Small ess (σ ≈ 0.1–0.3) and centres of order 0.5: the float32 rounding of θ = m ± σ, which the
      // price estimator divides by σ, then stays below 1e-6 of h.
      const H0 = 2;
      const ts = tasks(3, [20, 40, 80], 0.5);
      const opts = await Promise.all(ts.map((t) => fineTune(t, H0)));
      const posts = await Promise.all(opts.map((o) => posteriorOf(o)));
      // IVON reached the task posteriors: h = a and m = H_t c/(H₀ + H_t).
      for (const [i, t] of ts.entries()) {
        expect(maxAbsDiff(posts[i].params.w.hess, t.a.w)).toBeLessThan(1e-5);
      }
      const base = await posteriorOf(new IVON(rt, { params: { w: new Float32Array(5), b: new Float32Array(6) }, shapes: { w: [5], b: [2, 3] }, lr: 0.1, ess: 1 }));
      const zero = { w: new Float64Array(5), b: new Float64Array(6) };
      for (const alpha of [1, 0.7]) {
        const merged = mergePosteriors(base, posts, { scale: alpha });
        const error = Math.max(...NAMES.map((n) => maxAbsDiff(merged.params[n].mean, mergedMinimiser(ts, H0, zero, alpha, n))));
        console.log(`IVON fine-tunes merged with α = ${alpha}: max |θ_M − closed form| = ${error.toExponential(2)}`);
        expect(error).toBeLessThan(1e-6);
      }
      // loadPosterior: the merged posterior into an optimizer with another ess keeps mean and σ.
      const merged = mergePosteriors(base, posts, { scale: 1 });
      const target = new IVON(rt, { params: { w: new Float32Array(5), b: new Float32Array(6) }, shapes: { w: [5], b: [2, 3] }, lr: 0.1, ess: 1000, weightDecay: 1e-3 });
      await loadPosterior(target, merged);
      for (const n of NAMES) {
        const got = await target.read(n);
        const p = merged.params[n];
        expect(Array.from(got.mean)).toEqual(Array.from(p.mean));
        expect(Array.from(got.momentum)).toEqual(new Array(count(n)).fill(0));
        for (let j = 0; j < count(n); j++) {
          const want = 1 / Math.sqrt(p.ess * (p.hess[j] + p.priorPrecision[j]));
          expect(Math.abs(got.sigma[j] - want) / want).toBeLessThan(1e-6);
        }
      }
      const roundTrip = await posteriorOf(target);
      expect(maxAbsDiff(roundTrip.params.w.mean, merged.params.w.mean)).toBe(0);
    });

    it('tasks fine-tuned with priorMean θ₀ ≠ 0 merge to the minimiser within 1e-6; loadPosterior asPrior makes the merge the prior', async () => {
      const H0 = 2;
      const ts = tasks(4, [20, 40, 80], 0.5);
      const rng = new Rng(5);
      const theta0 = Object.fromEntries(NAMES.map((n) => [n, Float32Array.from({ length: count(n) }, () => 0.5 * rng.normal())])) as Record<Name, Float32Array>;
      const opts = await Promise.all(ts.map((t) => fineTune(t, H0, theta0)));
      const posts = await Promise.all(opts.map((o) => posteriorOf(o)));
      expect(Array.from(posts[0].params.w.priorMean)).toEqual(Array.from(theta0.w));
      const base = await posteriorOf(new IVON(rt, { params: { w: theta0.w.slice(), b: theta0.b.slice() }, shapes: { w: [5], b: [2, 3] }, lr: 0.1, ess: 1 }));
      for (const alpha of [1, 0.7]) {
        const merged = mergePosteriors(base, posts, { scale: alpha });
        const error = Math.max(...NAMES.map((n) => maxAbsDiff(merged.params[n].mean, mergedMinimiser(ts, H0, theta0, alpha, n))));
        console.log(`IVON fine-tunes with priorMean θ₀ merged with α = ${alpha}: max |θ_M − closed form| = ${error.toExponential(2)}`);
        expect(error).toBeLessThan(1e-6);
      }
      // asPrior: the merged posterior becomes the prior of further training in an optimizer with another ess.
      const merged = mergePosteriors(base, posts, { scale: 1 });
      const next = new IVON(rt, { params: { w: new Float32Array(5), b: new Float32Array(6) }, shapes: { w: [5], b: [2, 3] }, lr: 0.5, ess: 300, weightDecay: 1e-3, hessInit: 0.5, beta1: 0, beta2: 0 });
      await loadPosterior(next, merged, { asPrior: true });
      for (const n of NAMES) {
        const got = await next.read(n);
        const p = merged.params[n];
        expect(Array.from(got.mean)).toEqual(Array.from(p.mean));
        expect(Array.from(got.priorMean)).toEqual(Array.from(p.mean));
        expect(Array.from(got.hess)).toEqual(new Array(count(n)).fill(0.5));
        for (let j = 0; j < count(n); j++) {
          const absolute = p.ess * (p.hess[j] + p.priorPrecision[j]);
          expect(Math.abs(300 * got.priorPrecision[j] - absolute) / absolute).toBeLessThan(1e-6);
        }
      }
      // One more quadratic task trained from that prior ends where the joint objective of all four does.
      const extra = tasks(6, [60], 0.5)[0];
      const ones = Object.fromEntries(NAMES.map((n) => [n, new Float32Array(count(n)).fill(1)]));
      const minusOnes = Object.fromEntries(NAMES.map((n) => [n, new Float32Array(count(n)).fill(-1)]));
      for (let step = 0; step < 200; step++) {
        for (const epsilon of [ones, minusOnes]) {
          await next.sampledParams(
            (ctx) => {
              for (const n of NAMES) ctx.setGrad(n, Float32Array.from(ctx.theta(n), (v, j) => (extra.a[n][j] * extra.ess * (v - extra.c[n][j])) / 300));
            },
            { epsilon },
          );
        }
        await next.step();
      }
      for (const n of NAMES) {
        const want = mergedMinimiser([...ts, extra], H0, theta0, 1, n);
        expect(maxAbsDiff((await next.read(n)).mean, want)).toBeLessThan(1e-6);
      }
    });
  });
});

describe('mergePosteriors on digits', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => rt.dispose());

  it('beats plain averaging of the fine-tuned weights on the union of the tasks’ test rows (5 seeds)', { timeout: 900_000 }, async () => {
    const all = loadDigits();
    const P0 = 5; // absolute prior precision shared by the fine-tunes: δ_t = P0 / N_t
    const scores = { merged: { acc: [] as number[], nll: [] as number[] }, average: { acc: [] as number[], nll: [] as number[] } };
    for (const seed of [1, 2, 3, 4, 5]) {
      const { train, test } = trainTestSplit(all, 0.2, seed);
      const model = mlp([64, 32, 10], relu);
      const net = model.bind(createNnOps(rt), 256);
      const pre = subset(train, permutation(train.rows, new Rng(seed)).subarray(0, 150));
      const base = new IVON(rt, { params: model.init(seed), shapes: model.shapes(), lr: 0.2, ess: pre.rows, weightDecay: P0 / pre.rows, hessInit: 0.1, seed });
      await fit(net, base, { x: pre.x, targets: pre.labels, rows: pre.rows }, { loss: 'cross-entropy', epochs: 60, batchSize: 32, lr: 0.2, seed });
      const basePosterior = await posteriorOf(base);
      const posts: Posterior[] = [];
      for (const [t, set] of [filterLabels(train, (l) => l < 5), filterLabels(train, (l) => l >= 5)].entries()) {
        const start = Object.fromEntries(Object.entries(basePosterior.params).map(([k, v]) => [k, v.mean]));
        const opt = new IVON(rt, { params: start, shapes: model.shapes(), lr: 0.1, ess: set.rows, weightDecay: P0 / set.rows, hessInit: 0.1, beta2: 0.99, seed: seed * 10 + t });
        await fit(net, opt, { x: set.x, targets: set.labels, rows: set.rows }, { loss: 'cross-entropy', epochs: 30, batchSize: 32, lr: 0.1, seed });
        posts.push(await posteriorOf(opt));
      }
      const merged = mergePosteriors(basePosterior, posts, { scale: 1 });
      const names = Object.keys(merged.params);
      const evaluate = (means: Record<string, Float32Array>) => {
        const holder = new IVON(rt, { params: means, shapes: model.shapes(), lr: 0.1, ess: 1 });
        const p = predictAtMean(net, holder, test.x, test.rows);
        let correct = 0;
        let nll = 0;
        for (let i = 0; i < test.rows; i++) {
          let best = 0;
          for (let k = 1; k < 10; k++) if (p.probs[i * 10 + k] > p.probs[i * 10 + best]) best = k;
          correct += best === test.labels[i] ? 1 : 0;
          nll -= p.logProbs[i * 10 + test.labels[i]];
        }
        holder.dispose();
        return { acc: correct / test.rows, nll: nll / test.rows };
      };
      const m = evaluate(Object.fromEntries(names.map((n) => [n, merged.params[n].mean])));
      const a = evaluate(Object.fromEntries(names.map((n) => [n, posts[0].params[n].mean.map((v, j) => (v + posts[1].params[n].mean[j]) / 2)])));
      scores.merged.acc.push(m.acc);
      scores.merged.nll.push(m.nll);
      scores.average.acc.push(a.acc);
      scores.average.nll.push(a.nll);
    }
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    console.log(
      `digits merge (labels 0–4 + 5–9, 5 seeds): merged accuracy ${mean(scores.merged.acc).toFixed(4)} NLL ${mean(scores.merged.nll).toFixed(4)}; ` +
        `plain averaging accuracy ${mean(scores.average.acc).toFixed(4)} NLL ${mean(scores.average.nll).toFixed(4)}; per seed merged ${scores.merged.acc.map((v) => v.toFixed(3))} average ${scores.average.acc.map((v) => v.toFixed(3))}`,
    );
    expect(mean(scores.merged.acc)).toBeGreaterThan(mean(scores.average.acc));
    expect(mean(scores.merged.nll)).toBeLessThan(mean(scores.average.nll));
  });
});

describe('bad input: a clear error, nothing changed', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => rt.dispose());

  const param = (n: number, fill = 0.5) => ({ shape: [n], mean: new Float32Array(n).fill(fill), hess: new Float32Array(n).fill(1), priorPrecision: new Float32Array(n).fill(0.01), priorMean: new Float32Array(n), ess: 100 });
  const posterior = (): Posterior => ({ params: { w: param(4), b: param(2) } });
  const frozenCopy = (p: Posterior) => JSON.stringify(Object.entries(p.params).map(([k, v]) => [k, v.shape, Array.from(v.mean), Array.from(v.hess), Array.from(v.priorPrecision), v.ess]));

  it('mergePosteriors names shape, layout, NaN, prior and scale problems and leaves its inputs alone', () => {
    const base = posterior();
    const good = posterior();
    const before = [frozenCopy(base), frozenCopy(good)];
    const shaped: Posterior = { params: { w: param(5), b: param(2) } };
    expect(() => mergePosteriors(base, [good, shaped], { scale: 1 })).toThrow(/'w' has shape \[5\] in tasks\[1\] but \[4\] in base/);
    const renamed: Posterior = { params: { w: param(4), c: param(2) } };
    expect(() => mergePosteriors(base, [renamed], { scale: 1 })).toThrow(/tasks\[0\] holds parameters \[c, w\] but base holds \[b, w\]; merge posteriors of the same model layout/);
    const nan = posterior();
    (nan.params.w.mean as Float32Array)[2] = NaN;
    expect(() => mergePosteriors(base, [good, nan], { scale: 1 })).toThrow(/tasks\[1\]\.params\['w'\]\.mean has a non-finite value NaN at index 2/);
    const otherPrior: Posterior = { params: { w: { ...param(4), priorPrecision: new Float32Array(4).fill(0.02) }, b: param(2) } };
    expect(() => mergePosteriors(base, [good, otherPrior], { scale: 1 })).toThrow(/merging assumes one shared prior/);
    const noHess = { params: { w: { ...param(4), hess: undefined }, b: param(2) } } as unknown as Posterior;
    expect(() => mergePosteriors(base, [noHess], { scale: 1 })).toThrow(/hess must be a Float32Array of 4 elements/);
    expect(() => mergePosteriors(base, [good], { scale: 0 })).toThrow(/scale must be a finite number > 0/);
    expect(() => mergePosteriors(base, [], { scale: 1 })).toThrow(/tasks must be a non-empty array/);
    expect([frozenCopy(base), frozenCopy(good)]).toEqual(before);
  });

  it('posteriorOf / loadPosterior refuse a non-IVON optimizer, naming the fix', async () => {
    const adamw = new AdamW(rt, { params: { w: new Float32Array(4), b: new Float32Array(2) }, lr: 0.01 });
    await expect(posteriorOf(adamw as unknown as IVON)).rejects.toThrow(/needs an IVON optimizer .*got a adamw optimizer; train with new IVON/);
    await expect(loadPosterior(adamw as unknown as IVON, posterior())).rejects.toThrow(/needs an IVON optimizer/);
  });

  it('loadPosterior rejects mismatched names, shapes and NaN before changing the optimizer', async () => {
    const opt = new IVON(rt, { params: { w: new Float32Array(4).fill(0.1), b: new Float32Array(2) }, lr: 0.1, ess: 50 });
    const before = await opt.snapshot();
    await expect(loadPosterior(opt, { params: { w: param(4) } })).rejects.toThrow(/the posterior holds \[w\] but the optimizer's trainable parameters are \[b, w\]/);
    await expect(loadPosterior(opt, { params: { w: { ...param(4), shape: [2, 2] }, b: param(2) } })).rejects.toThrow(/'w' has shape \[2, 2\] in the posterior but \[4\] in the optimizer/);
    const nan = posterior();
    (nan.params.b.hess as Float32Array)[1] = NaN;
    await expect(loadPosterior(opt, nan)).rejects.toThrow(/posterior\.params\['b'\]\.hess has a non-finite value NaN at index 1/);
    const negative = posterior();
    (negative.params.w.hess as Float32Array)[0] = -1;
    await expect(loadPosterior(opt, negative)).rejects.toThrow(/hess \+ priorPrecision must be > 0/);
    expect(await opt.snapshot()).toEqual(before);
  });
});
