// The kernel table: each GPU kernel as a small data-only descriptor (name, storage bindings, how
// many elements one invocation covers, body). The runner compiles all of them at init and needs
// nothing else to dispatch them. Names and binding order follow docs/KERNELS.md.

import { adamwUpdateBody, sgdUpdateBody } from './adamw.wgsl.js';
import {
  ivonAccumulateBody,
  ivonDrawBody,
  ivonSampleBody,
  ivonSampleGivenBody,
  ivonUpdateBody,
  ivonUpdateFusedBody,
  ivonUpdateRedrawBody,
  ivonUpdateAndDrawBody,
  ivonUpdateFusedAndSampleBody,
} from './ivon.wgsl.js';
import { fillNormalBody, philoxBlocksBody } from './philox.wgsl.js';
import type { StorageBinding } from './prelude.wgsl.js';
import { copyBody, countNonFiniteBody, fillBody, triadBody } from './probe.wgsl.js';

export interface KernelSpec {
  readonly storage: readonly StorageBinding[];
  /** Elements (or Philox blocks, for philoxBlocks) one invocation handles. */
  readonly elementsPerInvocation: number;
  readonly body: string;
}

const r = (name: string): StorageBinding => ({ name, access: 'read', type: 'vec4<f32>' });
const rw = (name: string): StorageBinding => ({ name, access: 'read_write', type: 'vec4<f32>' });

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
  ivonSample: { storage: [r('mean'), r('hess'), rw('noise'), rw('theta')], elementsPerInvocation: 4, body: ivonSampleBody },
  ivonDraw: { storage: [r('mean'), r('hess'), rw('theta')], elementsPerInvocation: 4, body: ivonDrawBody },
  ivonUpdateRedraw: { storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad')], elementsPerInvocation: 4, body: ivonUpdateRedrawBody },
  ivonUpdateAndDraw: {
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonUpdateAndDrawBody,
  },
  ivonUpdateFusedAndSample: {
    storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), rw('noise'), rw('theta')],
    elementsPerInvocation: 4,
    body: ivonUpdateFusedAndSampleBody,
  },
  ivonSampleGiven: { storage: [r('mean'), r('hess'), rw('noise'), rw('theta')], elementsPerInvocation: 4, body: ivonSampleGivenBody },
  ivonAccumulate: { storage: [r('grad'), r('noise'), rw('gradMean'), rw('curvMean')], elementsPerInvocation: 4, body: ivonAccumulateBody },
  ivonUpdate: { storage: [rw('mean'), rw('hess'), rw('momentum'), r('gradMean'), r('curvMean')], elementsPerInvocation: 4, body: ivonUpdateBody },
  ivonUpdateFused: { storage: [rw('mean'), rw('hess'), rw('momentum'), r('grad'), r('noise')], elementsPerInvocation: 4, body: ivonUpdateFusedBody },
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
