// predictionVariance against the explicit diag(J diag(σ²) Jᵀ) built by float64 central finite
// differences of a float64 forward (test/posterior-helpers.ts), on every backend: js, wasm, wasm
// with the GEMM sharded over 2 workers, webgpu (Dawn; no adapter is a failure). The Monte-Carlo
// method converges to it on a linear model (where linearisation is exact), and the AdamW variance
// is 1/(N·sqrt(v̂) + δ) from Adam's second moment, recomputed here in float64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseGpu } from '../gpu/gpu-provider.js';
import { createPoolBackend, type PoolBackend } from '../src/backends/pool.js';
import { AdamW, createRuntime, IVON, Linear, mlp, posteriorOf, predictionVariance, Sequential, tanh, gelu, relu, type Runtime } from '../src/index.js';
import type { RuntimeExplanation } from '../src/runtime.js';
import { Rng } from '../src/nn/random.js';
import { createModelOps } from '../src/nn/runtime-ops.js';
import { finiteDifferenceVariance, toParams64 } from './posterior-helpers.js';

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** An IVON optimizer of the model whose curvature varies per element (so σ does). */
async function ivonWithSpreadCurvature(rt: Runtime, model: Sequential, seed: number): Promise<IVON> {
  const opt = new IVON(rt, { params: model.init(seed), shapes: model.shapes(), lr: 0.1, ess: 50, weightDecay: 0.05, seed });
  const snap = await opt.snapshot();
  const rng = new Rng(seed + 1);
  for (const t of Object.values(snap.tensors)) t.hess = Float32Array.from(t.hess!, () => 0.2 + 3 * rng.uniform());
  await opt.restore(snap);
  return opt;
}

async function sigma2Of(opt: IVON): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const name of opt.parameterNames) out[name] = Float64Array.from((await opt.read(name)).sigma, (s) => s * s);
  return out;
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
  return worst;
}

function poolRuntime(compute: PoolBackend): Runtime {
  return {
    backend: 'wasm',
    workers: 2,
    compute,
    explain: () => ({ chosen: 'wasm', workers: 2, description: compute.description, reason: 'built by the test', probes: {} as RuntimeExplanation['probes'], refused: {}, warnings: [] }),
    dispose: () => compute.dispose(),
  };
}

const KINDS = ['js', 'wasm', 'wasm+workers', 'webgpu'] as const;

describe('predictionVariance (linearised) equals the finite-difference J diag(σ²) Jᵀ', () => {
  const rts = {} as Record<(typeof KINDS)[number], Runtime>;
  let pool: PoolBackend;
  beforeAll(async () => {
    rts.js = await createRuntime({ backend: 'js' });
    rts.wasm = await createRuntime({ backend: 'wasm' });
    pool = await createPoolBackend({ workers: 2, minGemmFlopsPerWorker: 1 });
    rts['wasm+workers'] = poolRuntime(pool);
    rts.webgpu = await createRuntime({ backend: 'webgpu' });
  });
  afterAll(async () => {
    for (const kind of KINDS) await rts[kind]?.dispose();
    releaseGpu();
  });

  const rows = 13;
  const models: [string, () => Sequential][] = [
    ['tanh MLP 5-7-6-3', () => mlp([5, 7, 6, 3], tanh)],
    ['gelu MLP 4-9-4 without an output bias', () => new Sequential([new Linear('a', 4, 9), gelu(), new Linear('b', 9, 4, false)])],
  ];
  for (const kind of KINDS) {
    for (const [label, build] of models) {
      it(`${kind}: ${label}, 13 rows in chunks of 8`, async () => {
        const model = build();
        const opt = await ivonWithSpreadCurvature(rts[kind], model, 7);
        const rng = new Rng(3);
        const x = randomArray(rows * model.inFeatures, rng);
        const net = model.bind(createModelOps(rts[kind]), 8);
        const sharded = kind === 'wasm+workers' ? pool.shardedGemmCount : 0;
        const got = await predictionVariance(net, opt, x, rows);
        if (kind === 'wasm+workers') expect(pool.shardedGemmCount).toBeGreaterThan(sharded);
        const theta = toParams64(Object.fromEntries(await Promise.all(opt.parameterNames.map(async (n) => [n, (await opt.readTensors(n)).mean] as const))));
        const want = finiteDifferenceVariance(model, theta, await sigma2Of(opt), x, rows);
        expect(got.length).toBe(rows * model.outFeatures);
        expect(maxRelError(got, want)).toBeLessThan(kind === 'webgpu' ? 2e-4 : 5e-5);
        opt.dispose();
      });
    }
  }

  it('Monte Carlo draws the same samples on every backend (counter-based noise), so its variance agrees', async () => {
    const model = mlp([4, 6, 3], tanh);
    const x = randomArray(9 * 4, new Rng(13));
    const got: Record<string, Float32Array> = {};
    for (const kind of KINDS) {
      const opt = await ivonWithSpreadCurvature(rts[kind], model, 17);
      got[kind] = await predictionVariance(model.bind(createModelOps(rts[kind]), 4), opt, x, 9, { method: 'monte-carlo', samples: 24 });
      opt.dispose();
    }
    for (const kind of ['wasm', 'wasm+workers', 'webgpu'] as const) expect(maxRelError(got[kind], got.js), kind).toBeLessThan(1e-3);
  });

  it('webgpu: concurrent calls on one network wait for each other (shared workspace)', async () => {
    const model = mlp([4, 6, 3], tanh);
    const net = model.bind(createModelOps(rts.webgpu), 8);
    const a = await ivonWithSpreadCurvature(rts.webgpu, model, 31);
    const b = await ivonWithSpreadCurvature(rts.webgpu, model, 32);
    const x = randomArray(20 * 4, new Rng(14));
    const alone = [await predictionVariance(net, a, x, 20), await predictionVariance(net, b, x, 20)];
    const together = await Promise.all([predictionVariance(net, a, x, 20), predictionVariance(net, b, x, 20)]);
    expect(Array.from(together[0])).toEqual(Array.from(alone[0]));
    expect(Array.from(together[1])).toEqual(Array.from(alone[1]));
    expect(maxRelError(alone[0], alone[1])).toBeGreaterThan(1e-2);
  });

  it('ReLU MLP on js equals the finite differences away from the kinks', async () => {
    const model = mlp([3, 8, 2], relu);
    const opt = await ivonWithSpreadCurvature(rts.js, model, 11);
    const x = randomArray(10 * 3, new Rng(5));
    const got = await predictionVariance(model.bind(createModelOps(rts.js), 16), opt, x, 10);
    const theta = toParams64(Object.fromEntries(await Promise.all(opt.parameterNames.map(async (n) => [n, (await opt.readTensors(n)).mean] as const))));
    const want = finiteDifferenceVariance(model, theta, await sigma2Of(opt), x, 10, 1e-7);
    expect(maxRelError(got, want)).toBeLessThan(1e-4);
  });
});

describe('predictionVariance: Monte Carlo and AdamW', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => rt.dispose());

  it('the Monte-Carlo variance converges to the linearised one on a linear model (exact there)', async () => {
    const model = new Sequential([new Linear('f', 3, 2)]);
    const opt = await ivonWithSpreadCurvature(rt, model, 21);
    const x = randomArray(4 * 3, new Rng(9), 2);
    const net = model.bind(createModelOps(rt), 4);
    const exact = await predictionVariance(net, opt, x, 4);
    const errors: number[] = [];
    for (const samples of [100, 6400]) {
      const mc = await predictionVariance(net, opt, x, 4, { method: 'monte-carlo', samples });
      errors.push(maxRelError(mc, exact));
    }
    // Relative standard error of a sample variance is sqrt(2/(S − 1)): 14% at S = 100, 1.8% at 6400.
    expect(errors[1]).toBeLessThan(0.08);
    expect(errors[1]).toBeLessThan(errors[0]);
  });

  it('a per-element prior (priorPrecision) enters σ² = 1/(ess·(h + δ_j)); posteriorOf reports it', async () => {
    const model = new Sequential([new Linear('f', 3, 2)]);
    const rng = new Rng(41);
    const delta = { 'f.weight': Float32Array.from({ length: 6 }, () => 0.01 + rng.uniform()), 'f.bias': Float32Array.of(5, 0.02) };
    const mu0 = { 'f.weight': randomArray(6, rng), 'f.bias': randomArray(2, rng) };
    const opt = new IVON(rt, { params: model.init(3), shapes: model.shapes(), lr: 0.1, ess: 20, hessInit: 0.3, priorPrecision: delta, priorMean: mu0 });
    const post = await posteriorOf(opt);
    expect(Array.from(post.params['f.weight'].priorPrecision)).toEqual(Array.from(delta['f.weight']));
    expect(Array.from(post.params['f.bias'].priorMean)).toEqual(Array.from(mu0['f.bias']));
    const x = randomArray(4 * 3, rng);
    const got = await predictionVariance(model.bind(createModelOps(rt), 4), opt, x, 4);
    const sigma2 = Object.fromEntries(Object.entries(delta).map(([n, d]) => [n, Float64Array.from(d, (dj) => 1 / (20 * (0.3 + dj)))]));
    const theta = toParams64({ 'f.weight': post.params['f.weight'].mean, 'f.bias': post.params['f.bias'].mean });
    expect(maxRelError(got, finiteDifferenceVariance(model, theta, sigma2, x, 4))).toBeLessThan(1e-5);
  });

  it('AdamW: σ² = 1/(N·sqrt(v̂) + δ) from the bias-corrected second moment', async () => {
    const model = new Sequential([new Linear('f', 3, 2)]);
    const opt = new AdamW(rt, { params: model.init(1), shapes: model.shapes(), lr: 0.01 });
    const rng = new Rng(4);
    for (let s = 0; s < 5; s++) {
      await opt.sampledParams((ctx) => {
        for (const name of opt.parameterNames) ctx.setGrad(name, randomArray(opt.layout.params.get(name)!.count, rng));
      });
      await opt.step();
    }
    const x = randomArray(3 * 3, rng);
    const net = model.bind(createModelOps(rt), 4);
    const got = await predictionVariance(net, opt, x, 3, { adamw: { dataSize: 100, priorPrecision: 2 } });
    const sigma2: Record<string, Float64Array> = {};
    for (const name of opt.parameterNames) {
      const sq = (await opt.readTensors(name)).expAvgSq!;
      sigma2[name] = Float64Array.from(sq, (v) => 1 / (100 * Math.sqrt(v / (1 - 0.999 ** 5)) + 2));
    }
    const theta = toParams64({ 'f.weight': (await opt.readTensors('f.weight')).mean, 'f.bias': (await opt.readTensors('f.bias')).mean });
    expect(maxRelError(got, finiteDifferenceVariance(model, theta, sigma2, x, 3))).toBeLessThan(1e-5);
    await expect(predictionVariance(net, opt, x, 3)).rejects.toThrow(/adamw: \{ dataSize: N, priorPrecision/);
    await expect(predictionVariance(net, opt, x, 3, { method: 'monte-carlo', samples: 8, adamw: { dataSize: 100, priorPrecision: 2 } })).rejects.toThrow(/IVON posterior/);
  });

  it('rejects bad input before anything changes', async () => {
    const model = mlp([3, 4, 2], tanh);
    const opt = await ivonWithSpreadCurvature(rt, model, 2);
    const net = model.bind(createModelOps(rt), 4);
    const x = randomArray(6, new Rng(1));
    const before = await opt.snapshot();
    const bad = x.slice();
    bad[4] = NaN;
    await expect(predictionVariance(net, opt, bad, 2)).rejects.toThrow(/non-finite value NaN at index 4 \(row 1\)/);
    await expect(predictionVariance(net, opt, x, 3)).rejects.toThrow(/at least rows·inFeatures = 9/);
    await expect(predictionVariance(net, opt, x, 2, { method: 'monte-carlo', samples: 1 })).rejects.toThrow(/samples must be an integer ≥ 2/);
    await expect(predictionVariance(net, opt, x, 2, { samples: 4 })).rejects.toThrow(/samples is for method 'monte-carlo'/);
    await expect(predictionVariance(net, opt, x, 2, { adamw: { dataSize: 1, priorPrecision: 1 } })).rejects.toThrow(/adamw option is for AdamW/);
    const other = mlp([3, 5, 2], tanh);
    const otherOpt = new IVON(rt, { params: other.init(1), shapes: other.shapes(), lr: 0.1, ess: 10 });
    await expect(predictionVariance(net, otherOpt, x, 2)).rejects.toThrow(/'fc1.weight' has 15 elements in the optimizer but 12 in the model/);
    const after = await opt.snapshot();
    expect(after).toEqual(before);
  });
});
