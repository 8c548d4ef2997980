// ctx.theta / ctx.grad on the webgpu backend, which has no CPU views: the block runner stages θ
// to the CPU before the callback and uploads the gradients after it (src/optim/cpu-staging.ts).
// A loop written with the CPU calls must give the bits of the same loop written with the portable
// calls (readTheta / setGrad) on the same backend, and the js answers within float32 rounding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, createRuntime, IVON, UsageError, type Runtime } from '../src/index.js';
import type { SampleContext } from '../src/optim/sample-context.js';

const N = 203;
const INIT = Float32Array.from({ length: N }, (_, i) => Math.sin(i));
const SCALE = Float32Array.from({ length: N }, (_, i) => 0.5 + (i % 7) / 3);

/** ∂/∂θ of ½ Σ a·θ² − θ: the gradient of a separable quadratic, written into `out`. */
function quadraticGrad(theta: Float32Array, out: Float32Array): void {
  for (let i = 0; i < theta.length; i++) out[i] = SCALE[i] * theta[i] - 1;
}

function ivonOn(rt: Runtime): IVON {
  return new IVON(rt, {
    groups: [{ params: { w: INIT, b: Float32Array.from([0.25, -0.5, 1]) } }, { params: { frozen: Float32Array.from([3, 4]) }, frozen: true }],
    lr: 0.05, ess: 400, beta2: 0.99, seed: 9, mcSamples: 2,
  });
}

type Loop = (ctx: SampleContext) => Promise<void> | void;

const cpuViewLoop: Loop = (ctx) => {
  quadraticGrad(ctx.theta('w'), ctx.grad('w'));
  const b = ctx.theta('b');
  ctx.grad('b').set(b.map((x) => 2 * x));
};

const portableLoop: Loop = async (ctx) => {
  const w = await ctx.readTheta('w');
  const gw = new Float32Array(N);
  quadraticGrad(w, gw);
  ctx.setGrad('w', gw);
  ctx.setGrad('b', (await ctx.readTheta('b')).map((x) => 2 * x));
};

async function train(rt: Runtime, loop: Loop): Promise<{ mean: Float32Array; hess: Float32Array; b: Float32Array }> {
  const opt = ivonOn(rt);
  for (let step = 0; step < 4; step++) {
    for (let s = 0; s < opt.mcSamples; s++) await opt.sampledParams(loop);
    await opt.step();
  }
  const w = await opt.read('w');
  const b = await opt.read('b');
  opt.dispose();
  return { mean: w.mean, hess: w.hess, b: b.mean };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return worst;
}

describe('ctx.theta / ctx.grad on webgpu through staged copies', () => {
  let gpu: Runtime;
  let js: Runtime;
  beforeAll(async () => {
    gpu = await createRuntime({ backend: 'webgpu' });
    js = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => {
    await gpu?.dispose();
    await js?.dispose();
  });

  it('stages θ exactly as readTheta reads it, frozen parameters at their mean', async () => {
    const opt = ivonOn(gpu);
    await opt.sampledParams(async (ctx) => {
      expect(Array.from(ctx.theta('w'))).toEqual(Array.from(await ctx.readTheta('w')));
      expect(Array.from(ctx.theta('frozen'))).toEqual([3, 4]);
      expect(ctx.theta('w').some((x, i) => x !== INIT[i])).toBe(true); // a sample, not the mean
      expect(Array.from(ctx.grad('b'))).toEqual([0, 0, 0]); // zero-filled
      ctx.grad('w');
    });
    opt.dispose();
  });

  it('trains to the bits of the portable loop on the same backend, and to the js answers within 1e-5', async () => {
    const staged = await train(gpu, cpuViewLoop);
    const portable = await train(gpu, portableLoop);
    expect(Array.from(staged.mean)).toEqual(Array.from(portable.mean));
    expect(Array.from(staged.hess)).toEqual(Array.from(portable.hess));
    expect(Array.from(staged.b)).toEqual(Array.from(portable.b));
    const reference = await train(js, cpuViewLoop);
    expect(maxRelDiff(staged.mean, reference.mean)).toBeLessThan(1e-5);
    expect(maxRelDiff(staged.hess, reference.hess)).toBeLessThan(1e-5);
    expect(staged.mean.some((x, i) => x !== INIT[i])).toBe(true);
  });

  it('a gradient taken with { overwrite: true } holds the previous block\'s values until written, as on the CPU', async () => {
    const opt = ivonOn(gpu);
    await opt.sampledParams((ctx) => {
      ctx.grad('w').fill(0.5);
      ctx.grad('b');
    });
    await opt.sampledParams((ctx) => {
      expect(ctx.grad('w', { overwrite: true })[7]).toBe(0.5);
      expect(ctx.grad('b', { overwrite: true })[0]).toBe(0);
    });
    opt.dispose();
  });

  it('a callback that throws accumulates nothing; setGrad and grad of one parameter share the uploaded copy', async () => {
    const viaSet = ivonOn(gpu);
    const viaView = ivonOn(gpu);
    await expect(
      viaSet.sampledParams((ctx) => {
        ctx.grad('w').fill(1e6);
        throw new Error('model failed');
      }),
    ).rejects.toThrow('model failed');
    await viaSet.sampledParams((ctx) => {
      ctx.grad('w').fill(7); // replaced by the setGrad below
      ctx.setGrad('w', new Float32Array(N).fill(0.25));
      expect(ctx.grad('w')[3]).toBe(0.25); // grad after setGrad sees the values set, as a CPU view would
      ctx.setGrad('b', new Float32Array(3));
    });
    await viaView.sampledParams((ctx) => {
      ctx.grad('w').fill(0.25);
      ctx.grad('b');
    });
    await viaSet.step();
    await viaView.step();
    expect(Array.from((await viaSet.read('w')).mean)).toEqual(Array.from((await viaView.read('w')).mean));
    viaSet.dispose();
    viaView.dispose();
  });

  it('AdamW on webgpu: ctx.theta is the weights themselves, and three steps match the js backend within 1e-5', async () => {
    const run = async (rt: Runtime) => {
      const opt = new AdamW(rt, { params: { w: INIT }, lr: 0.01 });
      for (let step = 0; step < 3; step++) {
        await opt.sampledParams(async (ctx) => {
          if (rt.backend === 'webgpu') expect(Array.from(ctx.theta('w'))).toEqual(Array.from((await opt.readTensors('w')).mean));
          quadraticGrad(ctx.theta('w'), ctx.grad('w'));
        });
        await opt.step();
      }
      const { mean } = await opt.readTensors('w');
      opt.dispose();
      return mean;
    };
    const [onGpu, onJs] = [await run(gpu), await run(js)];
    expect(maxRelDiff(onGpu, onJs)).toBeLessThan(1e-5);
    expect(onGpu.some((x, i) => x !== INIT[i])).toBe(true);
  });

  it('{ cpuViews: false } reads nothing back: CPU calls fail with what to do, bindings work; mixing both on one gradient fails', async () => {
    const opt = ivonOn(gpu);
    const noViews = opt.sampledParams((ctx) => void ctx.theta('w'), { cpuViews: false });
    await expect(noViews).rejects.toThrow(UsageError);
    await expect(opt.sampledParams((ctx) => void ctx.theta('w'), { cpuViews: false })).rejects.toThrow(/cpuViews: false.*thetaBinding\(name\)/);
    await expect(opt.sampledParams(() => undefined, { cpuViews: 'yes' as never })).rejects.toThrow(/cpuViews must be true or false/);
    await expect(
      opt.sampledParams((ctx) => {
        ctx.grad('w');
        ctx.gradBinding('w');
      }),
    ).rejects.toThrow(/already wrote the gradient through grad\('w'\)/);
    await opt.sampledParams(
      (ctx) => {
        expect(ctx.thetaBinding('w').size).toBe(N * 4);
        ctx.gradBinding('w');
        ctx.gradBinding('b');
      },
      { cpuViews: false },
    );
    expect((await opt.step()).step).toBe(1);
    opt.dispose();
  });
});
