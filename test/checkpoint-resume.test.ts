// Exact resume (issue 6 item 3): N steps in one go equal k steps, checkpoint to a file, load into a
// freshly built optimizer, N − k steps — bit for bit on the same backend (IVON, AdamW, SGD), and
// within float32 tolerance when the run continues on another backend.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.js';
import { AdamW, createRuntime, IVON, SGD, type BackendKind, type OptimizerSnapshot, type Runtime } from '../src/index.js';
import { bits, seededRandom } from './fixtures/sample-snapshots.js';

const N = 6;
const K = 3;
const BACKENDS: BackendKind[] = ['js', 'wasm', 'webgpu'];

// A small least-squares problem: loss = ½·mean over rows of ‖x·W + b − y‖², x [8,4], W [4,3], b [3].
const random = seededRandom(99);
const X = Float64Array.from({ length: 32 }, () => random() * 2 - 1);
const Y = Float64Array.from({ length: 24 }, () => random() * 2 - 1);
const W0 = Float32Array.from({ length: 12 }, () => random() - 0.5);
const B0 = Float32Array.from({ length: 3 }, () => random() - 0.5);

function lossAndGrad(w: Float32Array, b: Float32Array): { loss: number; gw: Float32Array; gb: Float32Array } {
  const gw = new Float64Array(12);
  const gb = new Float64Array(3);
  let loss = 0;
  for (let r = 0; r < 8; r++) {
    for (let j = 0; j < 3; j++) {
      let pred = b[j];
      for (let i = 0; i < 4; i++) pred += X[r * 4 + i] * w[i * 3 + j];
      const err = (pred - Y[r * 3 + j]) / 8;
      loss += (0.5 * (pred - Y[r * 3 + j]) ** 2) / 8;
      gb[j] += err;
      for (let i = 0; i < 4; i++) gw[i * 3 + j] += err * X[r * 4 + i];
    }
  }
  return { loss, gw: Float32Array.from(gw), gb: Float32Array.from(gb) };
}

type AnyOptimizer = IVON | AdamW | SGD;
type Kind = 'ivon' | 'adamw' | 'sgd';

/** Built with `variant` 1 the hyper-parameters and seed differ: restore must bring back the saved ones. */
function build(kind: Kind, rt: Runtime, variant: 0 | 1): AnyOptimizer {
  const shapes = { w: [4, 3], b: [3] };
  if (kind === 'ivon') {
    return new IVON(rt, {
      groups: [
        { params: { w: W0 }, shapes: { w: shapes.w }, lr: variant ? 1 : 0.05, ess: 100, hessInit: 0.5, weightDecay: 1e-3, beta2: 0.999 },
        { params: { b: B0 }, lr: 0.1, ess: 100, clipRadius: 0.5 },
      ],
      mcSamples: 2,
      seed: variant ? 1234 : 7,
    });
  }
  if (kind === 'adamw') return new AdamW(rt, { params: { w: W0, b: B0 }, shapes, lr: variant ? 1 : 0.01, weightDecay: 0.01 });
  return new SGD(rt, { params: { w: W0, b: B0 }, shapes, lr: variant ? 1 : 0.05, momentum: 0.9 });
}

/** Runs steps [from, to); records every θ the model saw (IVON: two samples a step, one prediction draw at t = 2). */
async function train(opt: AnyOptimizer, from: number, to: number, seen: Float32Array[]): Promise<void> {
  const samples = opt instanceof IVON ? 2 : 1;
  for (let t = from; t < to; t++) {
    for (let s = 0; s < samples; s++) {
      await opt.sampledParams(
        async (ctx) => {
          const w = await ctx.readTheta('w');
          const b = await ctx.readTheta('b');
          const { loss, gw, gb } = lossAndGrad(w, b);
          ctx.setGrad('w', gw);
          ctx.setGrad('b', gb);
          seen.push(w, b);
          return loss;
        },
        { train: true },
      );
    }
    if (opt instanceof IVON && t === 2) {
      await opt.sampledParams(async (ctx) => void seen.push(await ctx.readTheta('w')), { train: false });
    }
    await opt.step();
  }
}

const ROLES = ['mean', 'hess', 'momentum', 'expAvgSq'] as const;

function expectBitIdentical(got: OptimizerSnapshot, want: OptimizerSnapshot): void {
  expect({ ...got, tensors: undefined }).toEqual({ ...want, tensors: undefined });
  for (const name of Object.keys(want.tensors)) {
    for (const role of ROLES) {
      const w = want.tensors[name][role];
      if (w) expect(Array.from(bits(got.tensors[name][role]!)), `${name}.${role}`).toEqual(Array.from(bits(w)));
    }
  }
}

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-4 * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`${what}[${i}]: ${got[i]} vs ${want[i]}`);
    }
  }
}

let dir: string;
const runtimes = new Map<BackendKind, Runtime>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivon-resume-'));
  for (const b of BACKENDS) runtimes.set(b, await createRuntime({ backend: b }));
});
afterAll(async () => {
  for (const rt of runtimes.values()) await rt.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** k steps on `first`, save, load into a fresh variant-1 optimizer on `second`, N − k more steps. */
async function resumed(kind: Kind, first: BackendKind, second: BackendKind, seen: Float32Array[]): Promise<OptimizerSnapshot> {
  const before = build(kind, runtimes.get(first)!, 0);
  await train(before, 0, K, seen);
  const path = join(dir, `${kind}-${first}-${second}.ckpt`);
  await saveCheckpoint(path, await before.snapshot());
  before.dispose();
  const after = build(kind, runtimes.get(second)!, 1);
  const shapes = Object.fromEntries([...after.layout.params].map(([name, slot]) => [name, slot.shape]));
  await after.restore(await loadCheckpoint(path, { expect: { kind, shapes } }));
  expect(after.stepCount).toBe(K);
  await train(after, K, N, seen);
  const snapshot = await after.snapshot();
  after.dispose();
  return snapshot;
}

async function uninterrupted(kind: Kind, backend: BackendKind, seen: Float32Array[]): Promise<OptimizerSnapshot> {
  const opt = build(kind, runtimes.get(backend)!, 0);
  await train(opt, 0, N, seen);
  const snapshot = await opt.snapshot();
  opt.dispose();
  return snapshot;
}

describe('exact resume through a checkpoint file', () => {
  for (const backend of BACKENDS) {
    for (const kind of ['ivon', 'adamw', 'sgd'] as const) {
      it(`${kind} on ${backend}: ${K} + save/load + ${N - K} steps is bit-identical to ${N} steps`, async () => {
        const seenA: Float32Array[] = [];
        const seenB: Float32Array[] = [];
        const whole = await uninterrupted(kind, backend, seenA);
        const split = await resumed(kind, backend, backend, seenB);
        expect(whole.step).toBe(N);
        expectBitIdentical(split, whole);
        // The model saw the very same sampled weights after the resume (same noise, same RNG position).
        expect(seenB.length).toBe(seenA.length);
        seenA.forEach((theta, i) => expect(Array.from(bits(seenB[i])), `theta ${i}`).toEqual(Array.from(bits(theta))));
        // And training moved the weights, so the comparison is not of two untouched copies.
        expect(Array.from(whole.tensors.w.mean)).not.toEqual(Array.from(W0));
      });
    }
  }

  for (const [first, second] of [['js', 'wasm'], ['js', 'webgpu'], ['webgpu', 'js']] as const) {
    it(`ivon saved on ${first} and resumed on ${second} matches ${N} steps on ${first} within float32 tolerance`, async () => {
      const whole = await uninterrupted('ivon', first, []);
      const split = await resumed('ivon', first, second, []);
      expect({ ...split, tensors: undefined }).toEqual({ ...whole, tensors: undefined });
      for (const name of ['w', 'b']) {
        for (const role of ['mean', 'hess', 'momentum'] as const) {
          expectClose(split.tensors[name][role]!, whole.tensors[name][role]!, `${name}.${role}`);
        }
      }
    });
  }
});
