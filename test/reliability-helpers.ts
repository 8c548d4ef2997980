// What the reliability tests share: a deterministic quadratic model whose gradient is computed
// from the sampled θ on any backend, and a bit-for-bit comparison of two optimizers' whole state
// (the "unperturbed twin" fed the same gradients).
import { expect } from 'vitest';
import type { OptimizerSnapshot, SampleContext } from '../src/index.js';

interface Snapshotting {
  snapshot(): Promise<OptimizerSnapshot>;
}

/** ĝ = a⊙θ + b for the quadratic ½Σaθ² + Σbθ (IVON.md §7's loss, tiled). */
export function quadraticGrad(theta: Float32Array, shift = 0): Float32Array {
  return Float32Array.from(theta, (x, i) => (0.5 + (i % 5)) * x + ((i % 3) - 1) * 0.3 + shift);
}

/** A train block that sets every trainable parameter's gradient from θ (readTheta: any backend). */
export function trainBlock(names: readonly string[], shift = 0) {
  return async (ctx: SampleContext): Promise<number> => {
    let sum = 0;
    for (const name of names) {
      const theta = await ctx.readTheta(name);
      ctx.setGrad(name, quadraticGrad(theta, shift));
      sum += theta[0];
    }
    return sum;
  };
}

/** The float32 bits of a tensor, for exact comparison (distinguishes -0 and NaN payloads). */
export function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

/** Asserts two snapshots hold the same state: t, counters, hyper-parameters and every tensor's bits. */
export function expectSameSnapshot(got: OptimizerSnapshot, want: OptimizerSnapshot, what = 'state'): void {
  expect(got.step, `${what}: step`).toBe(want.step);
  expect(got.skippedSteps, `${what}: skippedSteps`).toBe(want.skippedSteps);
  expect(got.rng, `${what}: rng`).toEqual(want.rng);
  expect(got.groups, `${what}: groups`).toEqual(want.groups);
  expect(Object.keys(got.tensors).sort(), `${what}: tensor names`).toEqual(Object.keys(want.tensors).sort());
  for (const name of Object.keys(want.tensors)) {
    const g = got.tensors[name];
    const w = want.tensors[name];
    for (const key of ['mean', 'hess', 'momentum', 'expAvgSq'] as const) {
      if (!w[key]) continue;
      expect(bits(g[key]!), `${what}: ${name}.${key}`).toEqual(bits(w[key]!));
    }
  }
}

/** Asserts two live optimizers hold the same state (and the same step counter). */
export async function expectSameState(got: Snapshotting, want: Snapshotting, what = 'state'): Promise<void> {
  expectSameSnapshot(await got.snapshot(), await want.snapshot(), what);
}

/** The rejection of a promise, or undefined when it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}
