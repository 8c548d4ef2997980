// One backend-agnostic script of GPU-checkable work (Philox bits, normals, a sampled step, the
// IVON.md §7 golden steps), run unchanged in Node, in a Chromium page and in Deno. The callers
// run it on the WebGPU backend and on the TypeScript reference and compare the results.

import type { Arena, Backend, IvonUpdateArgs } from '../../src/backend.js';
import { EPSILON, GOLDEN, HYPER, THETA0, gradient } from '../oracle/golden.js';

export interface GoldenStep {
  theta: number[];
  mean: number[];
  hess: number[];
  momentum: number[];
}

export interface ScenarioResult {
  /** philoxBlocks over blocks 0..63 of counter (·, 1, 2, 0), key (123, 4), plus the KAT block. */
  bits: number[];
  katZero: number[];
  /** z(5 .. 104) for sample 1, step 2, stream 0, seed 77. */
  normals: number[];
  /** ivonSample on 40 elements: the noise it drew. */
  sampledNoise: number[];
  golden: GoldenStep[];
}

/** The IVON step scalars of IVON.md §2 for step t (1-based), computed in float64. */
export function goldenUpdateArgs(t: number): IvonUpdateArgs {
  const { lr, ess, hessInit, beta1, beta2, weightDecay } = HYPER;
  return {
    hessApprox: 'price',
    ess,
    weightDecay,
    beta1,
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    curvCoef: 0.5 * (1 - beta2) ** 2,
    invDebias: 1 / (1 - beta1 ** t),
    alpha: lr * (hessInit + weightDecay),
    clipRadius: Infinity,
  };
}

/** IVON.md §7 with ε injected: ivonSampleGiven, gradient on the host, ivonUpdateFused. */
export async function runGolden(backend: Backend): Promise<GoldenStep[]> {
  const n = THETA0.length;
  const arena = backend.createArena(n, ['mean', 'hess', 'momentum', 'theta', 'grad', 'noise']);
  const range = { start: 0, count: n };
  backend.write(arena, 'mean', 0, Float32Array.from(THETA0));
  backend.fill(arena, 'hess', range, HYPER.hessInit);
  const steps: GoldenStep[] = [];
  for (let s = 0; s < GOLDEN.length; s++) {
    backend.write(arena, 'noise', 0, Float32Array.from(EPSILON[s]));
    backend.ivonSampleGiven(arena, range, HYPER.ess, HYPER.weightDecay);
    const theta = await backend.read(arena, 'theta', range);
    backend.write(arena, 'grad', 0, Float32Array.from(gradient(theta)));
    backend.ivonUpdateFused(arena, range, goldenUpdateArgs(s + 1));
    steps.push({
      theta: [...theta],
      mean: [...(await backend.read(arena, 'mean', range))],
      hess: [...(await backend.read(arena, 'hess', range))],
      momentum: [...(await backend.read(arena, 'momentum', range))],
    });
  }
  backend.destroyArena(arena);
  return steps;
}

async function sampledNoise(backend: Backend): Promise<number[]> {
  const n = 40;
  const arena: Arena = backend.createArena(n, ['mean', 'hess', 'noise', 'theta']);
  const range = { start: 0, count: n };
  backend.write(arena, 'mean', 0, Float32Array.from({ length: n }, (_, i) => 0.1 * i - 2));
  backend.write(arena, 'hess', 0, Float32Array.from({ length: n }, (_, i) => 0.5 + 0.05 * i));
  backend.ivonSample(arena, range, { sample: 0, step: 3, stream: 0, seedLo: 42, seedHi: 0, ess: 100, weightDecay: 1e-4 });
  const noise = await backend.read(arena, 'noise', range);
  backend.destroyArena(arena);
  return [...noise];
}

export async function runScenario(backend: Backend): Promise<ScenarioResult> {
  return {
    bits: [...(await backend.randomBits(0, 64, 1, 2, 0, 123, 4))],
    katZero: [...(await backend.randomBits(0, 1, 0, 0, 0, 0, 0))],
    normals: [...(await backend.randomNormals(5, 100, 1, 2, 0, 77, 0))],
    sampledNoise: await sampledNoise(backend),
    golden: await runGolden(backend),
  };
}
