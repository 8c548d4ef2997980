// Which buffers each element-wise kernel changes in place (reads the old value and overwrites it).
// Only these need an undo copy when the kernel is sharded: if any shard fails, the pool puts the
// old values back, so a failed step leaves the optimizer state exactly as it was. Kernels that
// write only fresh outputs (ivonSample → noise, theta; copy) can simply run again.

import type { Role } from '../backend.js';
import { GEMM_EXPORT } from './pool-gemm.js';
import type { ElementwiseKernel } from './wasm-module.js';

export const IN_PLACE_ROLES: Readonly<Record<ElementwiseKernel, readonly Role[]>> = {
  fillNormal: [], // ε drawn ahead into the 'epsilon' role
  ivonSample: [],
  ivonSampleGiven: ['noise'], // ε → σ·ε
  ivonAccumulate: ['gradMean', 'curvMean'], // Welford running means
  ivonUpdate: ['mean', 'hess', 'momentum'],
  ivonUpdateFused: ['mean', 'hess', 'momentum'],
  ivonDraw: [],
  ivonUpdateRedraw: ['mean', 'hess', 'momentum'],
  ivonUpdateAndDraw: ['mean', 'hess', 'momentum'], // theta is a fresh output
  ivonUpdateFusedAndSample: ['mean', 'hess', 'momentum', 'noise'], // noise: read as this step's, rewritten as the next one's (epsilon is only read)
  adamwUpdate: ['mean', 'momentum', 'expAvgSq'],
  sgdUpdate: ['mean', 'momentum'],
  copy: [],
  triad: [],
  countNonFinite: [],
};

/** The element-wise exports the workers resolve once at init; ops refer to them by index. */
export const POOL_EXPORTS = Object.keys(IN_PLACE_ROLES) as ElementwiseKernel[];

/**
 * The export-name table sent to the workers: the element-wise kernels, then the model toolkit's
 * nnGemm when the module has it (a user-supplied module may carry only the optimizer kernels).
 */
export function poolExportNames(module: WebAssembly.Module): string[] {
  const has = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return has.has(GEMM_EXPORT) && has.has('nnGemmPackFloats') ? [...POOL_EXPORTS, GEMM_EXPORT] : [...POOL_EXPORTS];
}
