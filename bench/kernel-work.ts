// The optimizer's per-step kernel sequences driven straight through the Backend interface on one
// arena, without the optimizer classes: this times the kernels alone. Each `work` function runs
// one unit (a step or one kernel) and awaits flush(), so synchronous (js, wasm), pooled (workers)
// and queued (WebGPU) backends are timed the same way: until the work has really finished.
// Hyper-parameters are IVON.md §1 defaults with lr 0.1, ess 1e4; the host scalars are computed the
// way src/optim computes them, so the kernels see realistic values (no NaN, no denormals).

import type { AdamwUpdateArgs, Arena, Backend, IvonUpdateArgs, Range, Role, SampleArgs, SgdUpdateArgs } from '../src/backend.js';

export const IVON_ROLES: readonly Role[] = ['mean', 'hess', 'momentum', 'theta', 'grad', 'noise', 'gradMean', 'curvMean', 'epsilon'];
/** IVON's roles with a per-element prior (docs/KERNELS.md §2.1). */
export const IVON_PRIOR_ROLES: readonly Role[] = [...IVON_ROLES, 'priorMean', 'priorPrecision'];
export const ADAMW_ROLES: readonly Role[] = ['mean', 'grad', 'momentum', 'expAvgSq'];
export const SGD_ROLES: readonly Role[] = ['mean', 'grad', 'momentum'];
/** Roles the probes use: copy theta ← mean, triad noise ← a·mean + hess. */
export const PROBE_ROLES: readonly Role[] = ['mean', 'hess', 'theta', 'noise'];

const LR = 0.1;
const ESS = 1e4;
const WD = 1e-4;
const B1 = 0.9;
const B2 = 0.99999;

export function sampleArgs(step: number): SampleArgs {
  return { sample: 0, step, stream: 0, seedLo: 12345, seedHi: 0, ess: ESS, weightDecay: WD };
}

/** Scalars of the IVON update at step t ≥ 1 (src/optim/ivon.ts updateArgs, rescaleLr and debias on). */
export function ivonArgs(t: number): IvonUpdateArgs {
  const oneMinusBeta2 = 1 - B2;
  return {
    hessApprox: 'price',
    ess: ESS,
    weightDecay: WD,
    beta1: B1,
    oneMinusBeta1: 1 - B1,
    beta2: B2,
    oneMinusBeta2,
    curvCoef: 0.5 * oneMinusBeta2 * oneMinusBeta2,
    invDebias: 1 / (1 - Math.pow(B1, t)),
    alpha: LR * (1 + WD),
    clipRadius: Infinity,
  };
}

/** Scalars of the AdamW update at step t ≥ 1 (src/optim/adamw.ts, lr 1e-3, wd 1e-2). */
export function adamwArgs(t: number): AdamwUpdateArgs {
  const lr = 1e-3;
  return {
    stepSize: lr / (1 - Math.pow(0.9, t)),
    decayFactor: 1 - lr * 1e-2,
    beta1: 0.9,
    oneMinusBeta1: 0.1,
    beta2: 0.999,
    oneMinusBeta2: 0.001,
    eps: 1e-8,
    invBiasCorrection2Sqrt: 1 / Math.sqrt(1 - Math.pow(0.999, t)),
  };
}

export const SGD_ARGS: SgdUpdateArgs = { lr: 0.1, momentum: 0.9, weightDecay: 0 };

export type Work = () => Promise<void>;

export interface KernelWork {
  readonly arena: Arena;
  readonly range: Range;
  /** Named units of work ('step' and each kernel of it), enqueued only (GPU timing brackets them). */
  readonly enqueue: Record<string, () => void>;
  /** The same units, each awaiting flush(): done when the work has really finished. */
  readonly work: Record<string, Work>;
  dispose(): void;
}

/** An arena with every role filled with plausible values (hess at its init 1, small gradients). */
function filledArena(backend: Backend, n: number, roles: readonly Role[]): { arena: Arena; range: Range } {
  const arena = backend.createArena(n, roles);
  const range = { start: 0, count: n };
  const value: Partial<Record<Role, number>> = { mean: 0.05, hess: 1, grad: 1e-3, expAvgSq: 1e-6, priorMean: 0.04, priorPrecision: 2 * WD };
  for (const role of roles) backend.fill(arena, role, range, value[role] ?? 0);
  return { arena, range };
}

function kernelWork(backend: Backend, arena: Arena, range: Range, enqueue: Record<string, () => void>, disposeMore = () => {}): KernelWork {
  const work: Record<string, Work> = {};
  for (const [name, fn] of Object.entries(enqueue)) {
    work[name] = async () => {
      fn();
      await backend.flush();
    };
  }
  return {
    arena,
    range,
    enqueue,
    work,
    dispose: () => {
      backend.destroyArena(arena);
      disposeMore();
    },
  };
}

/**
 * IVON with one sample per step. 'step' is what the optimizer runs in the steady state on this
 * backend: one pass that updates and draws the next step's first sample, with the noise stored
 * (CPU: ivonUpdateFusedAndSample, 40 B/element) or regenerated (GPU: ivonUpdateAndDraw, 32 B).
 * 'step-stored' / 'step-redraw' are those two one-pass steps, 'step-ahead' the stored one reading
 * the next z from 'epsilon' (drawn ahead, off the critical path: 'drawEpsilon'), 'step-two-pass' the sample kernel
 * followed by the fused update (48 B), 'step-prior' the backend's one-pass step on a second arena
 * with a per-element prior (8 B more), plus each kernel alone.
 */
export function ivonWork(backend: Backend, n: number): KernelWork {
  const { arena, range } = filledArena(backend, n, IVON_ROLES);
  // Made on first use only, so the suites that never time 'step-prior' hold no second arena.
  let prior: Arena | undefined;
  const priorArena = () => (prior ??= filledArena(backend, n, IVON_PRIOR_ROLES).arena);
  let t = 0;
  const sample = () => backend.ivonSample(arena, range, sampleArgs(t));
  const update = () => backend.ivonUpdateFused(arena, range, ivonArgs(++t));
  const draw = () => backend.ivonDraw(arena, range, sampleArgs(t));
  const redraw = () => backend.ivonUpdateRedraw(arena, range, sampleArgs(t), ivonArgs(++t));
  const updateAndSample = () => backend.ivonUpdateFusedAndSample(arena, range, sampleArgs(t), ivonArgs(++t));
  const updateAndDraw = () => backend.ivonUpdateAndDraw(arena, range, sampleArgs(t), ivonArgs(++t));
  // The step's critical path once a worker drew the next z during the block (issue 16).
  const updateAndSampleGiven = () => backend.ivonUpdateFusedAndSample(arena, range, sampleArgs(t), ivonArgs(++t), 'epsilon');
  let priorT = 0;
  const priorStep = backend.prefersRedraw
    ? () => backend.ivonUpdateAndDraw(priorArena(), range, sampleArgs(priorT), ivonArgs(++priorT))
    : () => backend.ivonUpdateFusedAndSample(priorArena(), range, sampleArgs(priorT), ivonArgs(++priorT));
  return kernelWork(backend, arena, range, {
    step: backend.prefersRedraw ? updateAndDraw : updateAndSample,
    'step-prior': priorStep,
    'step-stored': updateAndSample,
    'step-redraw': updateAndDraw,
    'step-ahead': updateAndSampleGiven,
    drawEpsilon: () => backend.drawEpsilon(arena, range, sampleArgs(t + 1)),
    'step-two-pass': () => {
      sample();
      update();
    },
    ivonSample: sample,
    ivonUpdateFused: update,
    ivonDraw: draw,
    ivonUpdateRedraw: redraw,
    ivonUpdateAndDraw: updateAndDraw,
    ivonUpdateFusedAndSample: updateAndSample,
  }, () => prior && backend.destroyArena(prior));
}

export function adamwWork(backend: Backend, n: number): KernelWork {
  const { arena, range } = filledArena(backend, n, ADAMW_ROLES);
  let t = 0;
  const step = () => backend.adamwUpdate(arena, range, adamwArgs(++t));
  return kernelWork(backend, arena, range, { step, adamwUpdate: step });
}

export function sgdWork(backend: Backend, n: number): KernelWork {
  const { arena, range } = filledArena(backend, n, SGD_ROLES);
  const step = () => backend.sgdUpdate(arena, range, SGD_ARGS);
  return kernelWork(backend, arena, range, { step, sgdUpdate: step });
}
