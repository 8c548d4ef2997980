// The decoder's "whatever loads, trains" rule (src/checkpoint/headroom.ts) at its edges, for
// IVON, AdamW and SGD:
// - the states of the paper's own runs (IVON.md §8) load;
// - the float32 traps of issue #11 are refused: ess 1e-46, ess/hessInit/weightDecay 1e39,
//   h + δ = 0 in float32, momentum near float32's maximum;
// - at the boundary itself: for each way a state can approach overflow, the LARGEST value the
//   decoder still accepts (found by bisection) is loaded into a real IVON and trained two steps
//   with gradients of ±1 and the optimizer's own noise, and everything must stay finite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../src/checkpoint/index.js';
import { AdamW, createRuntime, IVON, SGD, type Runtime } from '../src/index.js';
import type { OptimizerSnapshot } from '../src/optim/snapshot.js';

const COUNT = 8;

interface State {
  kind?: 'ivon' | 'adamw' | 'sgd';
  expAvgSq?: number;
  mean?: number;
  hess?: number;
  momentum?: number;
  hyper?: Record<string, number>;
  options?: Record<string, string | boolean | number>;
  step?: number;
}

function snapshotOf(s: State): OptimizerSnapshot {
  const fill = (v: number) => new Float32Array(COUNT).fill(v);
  const mean = fill(s.mean ?? 0.5);
  const momentum = fill(s.momentum ?? 0.01);
  const common = { step: s.step ?? 10, skippedSteps: 0 };
  if (s.kind === 'adamw' || s.kind === 'sgd') {
    const hyper =
      s.kind === 'adamw'
        ? { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, frozen: false, ...s.hyper }
        : { lr: 0.1, momentum: 0.9, weightDecay: 0, frozen: false, ...s.hyper };
    const tensors = { w: { shape: [COUNT], mean, momentum, ...(s.kind === 'adamw' ? { expAvgSq: fill(s.expAvgSq ?? 1e-4) } : {}) } };
    return { kind: s.kind, ...common, options: { nonFinite: 'error' }, rng: { seed: 0, predictDraws: 0 }, groups: [{ params: ['w'], hyper }], tensors };
  }
  return {
    kind: 'ivon',
    ...common,
    options: { mcSamples: 1, hessApprox: 'price', debias: true, rescaleLr: true, seed: 5, nonFinite: 'error', ...s.options },
    rng: { seed: 5, predictDraws: 0 },
    groups: [{ params: ['w'], hyper: { lr: 0.1, ess: 1000, hessInit: 1, weightDecay: 1e-4, beta1: 0.9, beta2: 0.99999, clipRadius: Infinity, frozen: false, ...s.hyper } }],
    tensors: { w: { shape: [COUNT], mean, hess: fill(s.hess ?? 1), momentum } },
  };
}

function accepts(s: State): boolean {
  try {
    decodeCheckpoint(encodeCheckpoint(snapshotOf(s)));
    return true;
  } catch (e) {
    if (e instanceof CheckpointError) return false;
    throw e;
  }
}

describe('checkpoint headroom: whatever loads, trains', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  /** Loads the state into a real IVON and trains two steps with gradient `sign`·1; true when all stays finite. */
  async function trainsFinitely(s: State, sign: number): Promise<boolean> {
    const params = { w: new Float32Array(COUNT) };
    const opt = s.kind === 'adamw' ? new AdamW(rt, { params }) : s.kind === 'sgd' ? new SGD(rt, { params, lr: 1 }) : new IVON(rt, { params, lr: 1, ess: 1 });
    try {
      await opt.loadState(encodeCheckpoint(snapshotOf(s)));
      for (let step = 0; step < 2; step++) {
        let finite = true;
        await opt.sampledParams((ctx) => {
          finite &&= ctx.theta('w').every(Number.isFinite);
          ctx.setGrad('w', new Float32Array(COUNT).fill(sign));
          return 0;
        });
        await opt.step();
        const t = (await opt.snapshot()).tensors.w;
        const values = [t.mean, t.hess, t.momentum, t.expAvgSq].filter((a): a is Float32Array => a !== undefined);
        if (!finite || !values.every((a) => a.every(Number.isFinite))) return false;
      }
      return true;
    } finally {
      opt.dispose();
    }
  }

  it("the paper's configurations (IVON.md §8) load", () => {
    const runs: State[] = [
      { hyper: { lr: 0.1, ess: 60_000, hessInit: 0.1, beta2: 0.99999, weightDecay: 30 / 60_000 }, hess: 0.3, mean: 0.2 }, // MNIST MLP
      { hyper: { lr: 0.2, ess: 50_000, hessInit: 0.5, weightDecay: 2e-4 }, hess: 2, momentum: 0.5 }, // CIFAR ResNet
      { hyper: { lr: 2.5, ess: 1.28e6, hessInit: 0.05, beta2: 0.999995, weightDecay: 5e-5 }, hess: 0.02 }, // ImageNet ResNet-50
      { hyper: { lr: 300, ess: 1e10, hessInit: 1e-3, weightDecay: 1e-6, clipRadius: 1e-3 }, hess: 5e-4, momentum: 2 }, // GPT-2
      { hyper: { lr: 0.03, ess: 1e8, hessInit: 3e-4, weightDecay: 0, clipRadius: 1e-3 }, options: { rescaleLr: false }, hess: 1e-4 }, // LoRA, δ = 0
      { hyper: { lr: 0.02, ess: 6000, hessInit: 0.5, beta2: 0.999, weightDecay: 5e-3 }, options: { mcSamples: 5 }, hess: 3, mean: 50 }, // UCI regression
      { hyper: { ess: 1e10, weightDecay: 1e-6 }, options: { hessApprox: 'gradsq' }, hess: 0 },
    ];
    for (const run of runs) expect(accepts(run), JSON.stringify(run)).toBe(true);
  });

  it('the per-element rule decides: a group whose worst corner would overflow, but none of whose elements would, loads and trains', async () => {
    const snapshot = snapshotOf({});
    const w = snapshot.tensors.w;
    w.mean[0] = 1e35; // with h + δ = 1: fine
    w.hess![1] = Math.fround(-1e-4 + 1e-6); // h + δ ≈ 1e-6 with m = 0.5: fine; together with m = 1e35 it would not be
    const bytes = encodeCheckpoint(snapshot);
    expect(() => decodeCheckpoint(bytes)).not.toThrow();
    const opt = new IVON(rt, { params: { w: new Float32Array(COUNT) }, lr: 1, ess: 1 });
    await opt.loadState(bytes);
    for (let step = 0; step < 2; step++) {
      await opt.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(COUNT).fill(1)));
      await opt.step();
    }
    const t = (await opt.snapshot()).tensors.w;
    expect([t.mean, t.hess!, t.momentum!].every((a) => a.every(Number.isFinite))).toBe(true);
    opt.dispose();
    w.hess![0] = w.hess![1]; // now one element has both
    expect(() => decodeCheckpoint(encodeCheckpoint(snapshot))).toThrow(/"w"\[0\] of group 0 cannot train/);
  });

  it("the step counter: past the RNG's 32-bit step word is refused; at it, the file loads (to predict) and step() fails clearly", async () => {
    expect(() => decodeCheckpoint(encodeCheckpoint({ ...snapshotOf({}), step: 2 ** 32 - 2, skippedSteps: 1 }))).toThrow(/skipped_?[sS]teps is 1, not an integer in \[0, 0\]/);
    expect(await trainsFinitely({ step: 2 ** 32 - 4 }, 1)).toBe(true);
    const opt = new IVON(rt, { params: { w: new Float32Array(COUNT) }, lr: 1, ess: 1 });
    await opt.loadState(encodeCheckpoint(snapshotOf({ step: 2 ** 32 - 2 })));
    await opt.sampledParams((ctx) => ctx.setGrad('w', new Float32Array(COUNT).fill(1)));
    await expect(opt.step()).rejects.toThrow(/step counter is at its limit/);
    opt.dispose();
  });

  it("refuses issue #11's float32 traps, naming them", () => {
    const refused = (s: State, message: RegExp) => expect(() => decodeCheckpoint(encodeCheckpoint(snapshotOf(s)))).toThrow(message);
    refused({ hyper: { ess: 1e-46 } }, /ess must be finite and > 0 in float32.*got 1e-46/);
    refused({ hyper: { ess: 1e39 } }, /ess must be finite and > 0 in float32.*got 1e\+39/);
    refused({ hyper: { hessInit: 1e39 } }, /hessInit must be finite and > 0 in float32.*got 1e\+39/);
    refused({ hyper: { weightDecay: 1e39 } }, /weightDecay must be 0 or finite and > 0 in float32.*got 1e\+39/);
    refused({ hess: -Math.fround(1e-4) }, /"w\.hess"\[0\] = .* in float32, so sigma is undefined/); // h + δ = 0 exactly in float32
    refused({ hess: -Math.fround(1e-4) * (1 - 2 ** -23) }, /"w"\[0\] of group 0 cannot train: hess \+ weightDecay is too close to 0/);
    refused({ momentum: 3e38 }, /"w"\[0\] of group 0 cannot train: a value of the next two steps would overflow float32/);
    refused({ hyper: { lr: 3e38, hessInit: 2 } }, /(step size .* is not finite in float32|lr·\(hessInit \+ weightDecay\) = .* overflows float32)/); // lr·(hessInit + δ) rounds to ∞
  });

  // Each knob moves one quantity from a harmless value towards overflow (or σ → ∞).
  const knobs: [string, (x: number) => State, number, number][] = [
    ['|mean|', (x) => ({ mean: x }), 1, 3e38],
    ['|momentum|', (x) => ({ momentum: -x }), 1, 3e38],
    ['hess', (x) => ({ hess: x }), 1, 3e38],
    ['hess (gradsq)', (x) => ({ hess: x, options: { hessApprox: 'gradsq' } }), 1, 3e38],
    ['ess', (x) => ({ hyper: { ess: x } }), 1, 3e38],
    ['ess (gradsq, δ = 0, small h)', (x) => ({ hyper: { ess: x, weightDecay: 0 }, hess: 1e-20, options: { hessApprox: 'gradsq' } }), 1, 3e38],
    ['1/ess', (x) => ({ hyper: { ess: 1 / x } }), 1, 1e44],
    ['1/(h + δ) with δ = 0', (x) => ({ hess: 1 / x, hyper: { weightDecay: 0 } }), 1, 1e44],
    ['lr', (x) => ({ hyper: { lr: x } }), 1, 3e38],
    ['lr (no rescale, no clip, debias off)', (x) => ({ hyper: { lr: x }, options: { rescaleLr: false, debias: false } }), 1, 3e38],
    ['1/(1 − β₁) at step 0, δ = 0, small h', (x) => ({ hyper: { beta1: 1 - 1 / x, weightDecay: 0 }, hess: 1e-24, step: 0 }), 2, 2 ** 52],
    ['closeness of h to −δ', (x) => ({ hess: -Math.fround(1e-4) * (1 - 1 / x) }), 2, 2 ** 30],
    ['AdamW |momentum| with a tiny eps and v = 0', (x) => ({ kind: 'adamw', momentum: x, expAvgSq: 0, hyper: { eps: 1e-30 } }), 1, 3e38],
    ['AdamW lr', (x) => ({ kind: 'adamw', hyper: { lr: x } }), 1e-3, 3e38],
    ['AdamW 1/eps with v = 0', (x) => ({ kind: 'adamw', expAvgSq: 0, hyper: { eps: 1 / x } }), 1, 1e44],
    ['SGD lr', (x) => ({ kind: 'sgd', hyper: { lr: x } }), 0.1, 3e38],
    ['SGD |momentum buffer|', (x) => ({ kind: 'sgd', momentum: x }), 1, 3e38],
    ['SGD weightDecay with a large mean', (x) => ({ kind: 'sgd', mean: 1e6, hyper: { weightDecay: x } }), 1e-4, 3e38],
    ['weightDecay with a large mean', (x) => ({ hyper: { weightDecay: x }, mean: 1e6 }), 1e-4, 3e38],
  ];

  for (const [what, state, low, high] of knobs) {
    it(`at the largest accepted ${what}, two steps with gradients ±1 stay finite`, async () => {
      expect(accepts(state(low)), `${what} = ${low} is accepted`).toBe(true);
      expect(accepts(state(high)), `${what} = ${high} is refused`).toBe(false);
      let [ok, bad] = [Math.log(low), Math.log(high)];
      for (let i = 0; i < 60; i++) {
        const mid = (ok + bad) / 2;
        if (accepts(state(Math.exp(mid)))) ok = mid;
        else bad = mid;
      }
      const edge = Math.exp(ok);
      for (const sign of [1, -1]) expect(await trainsFinitely(state(edge), sign), `${what} = ${edge}, gradient ${sign}`).toBe(true);
    });
  }
});
