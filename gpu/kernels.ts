// The kernel table: each GPU kernel as a small data-only descriptor (name, storage bindings, how
// many elements one invocation covers, body). The runner compiles all of them at init and needs
// nothing else to dispatch them. Names and binding order follow docs/KERNELS.md. Every kernel that
// uses δ has a `prior` variant: the bindings appended after its own (in the order of the CPU
// kernels' arguments) and the body that reads them; it runs on arenas with a per-element prior.
// The one-pass step also has an `epsilon` variant (the next sample's z read from a binding, not
// drawn), with and without the prior: each variant's body is generated from the kernel's one body.

import { adamwUpdateBody, sgdUpdateBody } from './adamw.wgsl.js';
import {
  ivonAccumulateBody,
  ivonDrawBody,
  ivonDrawPriorBody,
  ivonSampleBody,
  ivonSampleGivenBody,
  ivonSampleGivenPriorBody,
  ivonSamplePriorBody,
  ivonUpdateBody,
  ivonUpdateFusedBody,
  ivonUpdateFusedPriorBody,
  ivonUpdatePriorBody,
  ivonUpdateRedrawBody,
  ivonUpdateRedrawPriorBody,
  ivonUpdateAndDrawBody,
  ivonUpdateAndDrawPriorBody,
  ivonUpdateFusedAndSampleBody,
  ivonUpdateFusedAndSampleEpsilonBody,
  ivonUpdateFusedAndSampleEpsilonPriorBody,
  ivonUpdateFusedAndSamplePriorBody,
} from './ivon.wgsl.js';
import { fillNormalBody, philoxBlocksBody } from './philox.wgsl.js';
import type { StorageBinding } from './prelude.wgsl.js';
import { copyBody, countNonFiniteBody, fillBody, triadBody } from './probe.wgsl.js';

export interface KernelSpec {
  readonly storage: readonly StorageBinding[];
  /** Elements (or Philox blocks, for philoxBlocks) one invocation handles. */
  readonly elementsPerInvocation: number;
  readonly body: string;
  /** The per-element prior variant: bindings appended to `storage`, and its body. */
  readonly prior?: { readonly storage: readonly StorageBinding[]; readonly body: string };
  /**
   * The variant that reads the next sample's z from an 'epsilon' binding (drawn ahead by
   * drawEpsilon) instead of drawing it: the binding goes after the kernel's own and before the
   * prior's (the CPU kernels' argument order), with its body and, for a kernel with a prior
   * variant, its body with the prior.
   */
  readonly epsilon?: { readonly storage: readonly StorageBinding[]; readonly body: string; readonly priorBody: string };
}

/** Which compiled form of a kernel a call runs: with the per-element prior, with z read from 'epsilon'. */
export interface Variant {
  readonly prior: boolean;
  readonly epsilon: boolean;
}

export const PLAIN: Variant = { prior: false, epsilon: false };

/** The pipeline's name: 'ivonUpdateFusedAndSample+epsilon+prior' and so on. */
export function variantKey(name: KernelName, v: Variant): string {
  return `${name}${v.epsilon ? '+epsilon' : ''}${v.prior ? '+prior' : ''}`;
}

/** A variant's storage bindings in binding order, and its body; undefined if the kernel has no such variant. */
export function variantSource(name: KernelName, v: Variant): { storage: StorageBinding[]; body: string } | undefined {
  const spec: KernelSpec = KERNELS[name];
  if ((v.prior && !spec.prior) || (v.epsilon && !spec.epsilon)) return undefined;
  const storage = [...spec.storage, ...(v.epsilon ? spec.epsilon!.storage : []), ...(v.prior ? spec.prior!.storage : [])];
  const body = v.epsilon ? (v.prior ? spec.epsilon!.priorBody : spec.epsilon!.body) : v.prior ? spec.prior!.body : spec.body;
  return { storage, body };
}

/** Every variant of every kernel the table defines. */
export function allVariants(): Array<[KernelName, Variant]> {
  const flags = [false, true];
  return (Object.keys(KERNELS) as KernelName[]).flatMap((name) =>
    flags.flatMap((epsilon) => flags.map((prior): [KernelName, Variant] => [name, { prior, epsilon }])).filter(([, v]) => variantSource(name, v) !== undefined),
  );
}

const r = (name: string): StorageBinding => ({ name, access: 'read', type: 'vec4<f32>' });
const rw = (name: string): StorageBinding => ({ name, access: 'read_write', type: 'vec4<f32>' });
/** The prior bindings of the sampling kernels (δ only) and of the updates (μ and δ). */
const precisionOnly = [r('priorPrecision')];
const meanAndPrecision = [r('priorMean'), r('priorPrecision')];

export const KERNELS = {
  philoxBlocks: {
    storage: [{ name: 'out', access: 'read_write', type: 'vec4<u32>' }],
    elementsPerInvocation: 1,
    body: philoxBlocksBody,
  },
  fillNormal: {
    // Also drawEpsilon: `out` is then the arena's 'epsilon' role (noise drawn ahead of the step).
    storage: [{ name: 'out', access: 'read_write', type: 'f32' }],
    elementsPerInvocation: 16,
    body: fillNormalBody,
  },
  ivonSample: {
    storage: [r('mean'), r('hess'), rw('noise'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonSampleBody,
    prior: { storage: precisionOnly, body: ivonSamplePriorBody },
  },
  ivonDraw: {
    storage: [r('mean'), r('hess'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonDrawBody,
    prior: { storage: precisionOnly, body: ivonDrawPriorBody },
  },
  ivonUpdateRedraw: {
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad')],
    elementsPerInvocation: 4,
    body: ivonUpdateRedrawBody,
    prior: { storage: meanAndPrecision, body: ivonUpdateRedrawPriorBody },
  },
  ivonUpdateAndDraw: {
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonUpdateAndDrawBody,
    prior: { storage: meanAndPrecision, body: ivonUpdateAndDrawPriorBody },
  },
  ivonUpdateFusedAndSample: {
    // 8 storage bindings with the prior: the WebGPU default maxStorageBuffersPerShaderStage. With
    // epsilon as well, 9: compiled only on devices that allow it (webgpu-backend.ts has the fallback).
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), rw('noise'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonUpdateFusedAndSampleBody,
    prior: { storage: meanAndPrecision, body: ivonUpdateFusedAndSamplePriorBody },
    epsilon: { storage: [r('epsilon')], body: ivonUpdateFusedAndSampleEpsilonBody, priorBody: ivonUpdateFusedAndSampleEpsilonPriorBody },
  },
  ivonSampleGiven: {
    storage: [r('mean'), r('hess'), rw('noise'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonSampleGivenBody,
    prior: { storage: precisionOnly, body: ivonSampleGivenPriorBody },
  },
  ivonAccumulate: { storage: [r('grad'), r('noise'), rw('gradMean'), rw('curvMean')], elementsPerInvocation: 4, body: ivonAccumulateBody },
  ivonUpdate: {
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('gradMean'), r('curvMean')],
    elementsPerInvocation: 4,
    body: ivonUpdateBody,
    prior: { storage: meanAndPrecision, body: ivonUpdatePriorBody },
  },
  ivonUpdateFused: {
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), r('noise')],
    elementsPerInvocation: 4,
    body: ivonUpdateFusedBody,
    prior: { storage: meanAndPrecision, body: ivonUpdateFusedPriorBody },
  },
  adamwUpdate: { storage: [rw('param'), r('grad'), rw('expAvg'), rw('expAvgSq')], elementsPerInvocation: 4, body: adamwUpdateBody },
  sgdUpdate: { storage: [rw('param'), r('grad'), rw('momentumBuf')], elementsPerInvocation: 4, body: sgdUpdateBody },
  countNonFinite: {
    storage: [r('x'), { name: 'result', access: 'read_write', type: 'atomic<u32>' }],
    elementsPerInvocation: 4,
    body: countNonFiniteBody,
  },
  fill: { storage: [{ name: 'out', access: 'read_write', type: 'f32' }], elementsPerInvocation: 1, body: fillBody },
  copy: { storage: [rw('dst'), r('src')], elementsPerInvocation: 4, body: copyBody },
  triad: { storage: [rw('z'), r('x'), r('y')], elementsPerInvocation: 4, body: triadBody },
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;
