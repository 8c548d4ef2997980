// The kernel table: each GPU kernel as a small data-only descriptor (name, storage bindings, how
// many elements one invocation covers, body). The runner compiles all of them at init and needs
// nothing else to dispatch them. Names and binding order follow docs/KERNELS.md. Every kernel that
// uses δ has a `prior` variant: the bindings appended after its own (in the order of the CPU
// kernels' arguments) and the body that reads them; it runs on arenas with a per-element prior.

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
    // 8 storage bindings with the prior: the WebGPU default maxStorageBuffersPerShaderStage.
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), rw('noise'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonUpdateFusedAndSampleBody,
    prior: { storage: meanAndPrecision, body: ivonUpdateFusedAndSamplePriorBody },
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
