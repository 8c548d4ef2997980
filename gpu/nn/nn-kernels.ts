// The model toolkit's GPU kernel table: each kernel as data (its WGSL, how many storage bindings
// it has and which is written). nn-runner.ts compiles every entry at init and needs nothing else.

import { gemmSource } from './gemm.wgsl.js';
import { activationBackwardSource, activationSource, biasAddSource, biasGradSource } from './layers.wgsl.js';
import { lossSource } from './losses.wgsl.js';
import { squaredErrorDotSource, squareSource } from './posterior.wgsl.js';

export interface NnKernelSpec {
  readonly source: string;
  /** Storage bindings 1..n: 'read' or 'read_write', in the order the WGSL declares them. */
  readonly storage: readonly ('read' | 'read_write')[];
}

export const NN_KERNELS = {
  gemm: { source: gemmSource, storage: ['read', 'read', 'read_write'] },
  biasAdd: { source: biasAddSource, storage: ['read', 'read_write'] },
  biasGrad: { source: biasGradSource, storage: ['read', 'read_write'] },
  activation: { source: activationSource, storage: ['read', 'read_write'] },
  activationBackward: { source: activationBackwardSource, storage: ['read', 'read', 'read_write'] },
  loss: { source: lossSource, storage: ['read', 'read', 'read_write', 'read_write'] },
  square: { source: squareSource, storage: ['read', 'read_write'] },
  squaredErrorDot: { source: squaredErrorDotSource, storage: ['read', 'read', 'read_write'] },
} satisfies Record<string, NnKernelSpec>;

export type NnKernelName = keyof typeof NN_KERNELS;
