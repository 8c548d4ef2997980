// How the Backend interface's argument objects become the kernels' positional arguments, in the
// order docs/KERNELS.md fixes. One place, so the js reference calls, the WASM calls and the GPU
// uniforms cannot drift apart.

import type { Arena, HessApprox, IvonUpdateArgs, SampleArgs } from '../backend.js';

/** The kernels' integer code of the curvature estimator. */
export const hessApproxCode = (h: HessApprox): number => (h === 'price' ? 0 : 1);

/** sample, step, stream, seedLo, seedHi: the Philox counter and key of a draw. */
export type CounterArgs = [sample: number, step: number, stream: number, seedLo: number, seedHi: number];

export function counterArgs(s: SampleArgs): CounterArgs {
  return [s.sample, s.step, s.stream, s.seedLo, s.seedHi];
}

/** Every IVON update kernel's trailing scalars, hessApprox first. */
export type UpdateScalars = [
  hessApprox: number,
  ess: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  curvCoef: number,
  invDebias: number,
  alpha: number,
  clipRadius: number,
];

export function updateScalars(a: IvonUpdateArgs): UpdateScalars {
  return [hessApproxCode(a.hessApprox), a.ess, a.weightDecay, a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.curvCoef, a.invDebias, a.alpha, a.clipRadius];
}

/** Whether an arena carries a per-element prior (the 'priorMean'/'priorPrecision' roles, src/backend.ts). */
export function hasPrior(arena: Arena): boolean {
  return arena.roles.includes('priorPrecision');
}
