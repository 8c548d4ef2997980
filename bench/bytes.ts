// Bytes each kernel must move, counted from its contract (docs/KERNELS.md), so achieved GB/s can
// be compared with the copy/triad probes. Counting rule: every float32 tensor the kernel reads
// counts 4 B/element once, every tensor it writes counts 4 B/element once; a tensor both read and
// written (mean in the IVON update) counts 8 B. Write-allocate traffic (a cache line read before it
// is overwritten) and the RNG's scalars are not counted — the probes are counted the same way, so
// the ratio kernel/probe compares like with like.

export interface Traffic {
  reads: readonly string[];
  writes: readonly string[];
}

export const KERNEL_TRAFFIC = {
  // θ = m + σ·z: reads mean, hess; writes noise, theta. 16 B/element.
  ivonSample: { reads: ['mean', 'hess'], writes: ['noise', 'theta'] },
  // reads mean, hess, momentum, grad, noise; writes mean, hess, momentum. 32 B/element.
  ivonUpdateFused: { reads: ['mean', 'hess', 'momentum', 'grad', 'noise'], writes: ['mean', 'hess', 'momentum'] },
  // reads grad, noise, gradMean, curvMean; writes gradMean, curvMean. 24 B/element.
  ivonAccumulate: { reads: ['grad', 'noise', 'gradMean', 'curvMean'], writes: ['gradMean', 'curvMean'] },
  // reads mean, hess, momentum, gradMean, curvMean; writes mean, hess, momentum. 32 B/element.
  ivonUpdate: { reads: ['mean', 'hess', 'momentum', 'gradMean', 'curvMean'], writes: ['mean', 'hess', 'momentum'] },
  // One IVON step with one MC sample = ivonSample + ivonUpdateFused. 48 B/element.
  ivonStep: {
    reads: ['mean', 'hess', 'mean', 'hess', 'momentum', 'grad', 'noise'],
    writes: ['noise', 'theta', 'mean', 'hess', 'momentum'],
  },
  // θ = m + σ·z, noise not stored: reads mean, hess; writes theta. 12 B/element.
  ivonDraw: { reads: ['mean', 'hess'], writes: ['theta'] },
  // the fused update with the noise regenerated: reads mean, hess, momentum, grad; writes mean, hess, momentum. 28 B/element.
  ivonUpdateRedraw: { reads: ['mean', 'hess', 'momentum', 'grad'], writes: ['mean', 'hess', 'momentum'] },
  // the fused update, then the next step's first sample into noise and theta in the same pass:
  // reads mean, hess, momentum, grad, noise; writes mean, hess, momentum, noise, theta. 40 B/element —
  // the whole steady-state IVON step where the noise is stored.
  ivonUpdateFusedAndSample: {
    reads: ['mean', 'hess', 'momentum', 'grad', 'noise'],
    writes: ['mean', 'hess', 'momentum', 'noise', 'theta'],
  },
  // the one-pass step with the next z drawn ahead (issue 16): ivonUpdateFusedAndSample reading
  // epsilon instead of computing normals: 44 B/element — what step() costs the calling thread
  // when a worker drew ε during the block (the draw itself is fillNormal, 4 B/element, off the path).
  ivonUpdateFusedAndSampleGiven: {
    reads: ['mean', 'hess', 'momentum', 'grad', 'noise', 'epsilon'],
    writes: ['mean', 'hess', 'momentum', 'noise', 'theta'],
  },
  // update with the noise regenerated, then the next step's first θ drawn in the same pass:
  // reads mean, hess, momentum, grad; writes mean, hess, momentum, theta. 32 B/element — the
  // whole steady-state IVON step where the noise is regenerated (the θ of the next block is ready).
  ivonUpdateAndDraw: { reads: ['mean', 'hess', 'momentum', 'grad'], writes: ['mean', 'hess', 'momentum', 'theta'] },
  // The two one-pass steps with a per-element prior (docs/KERNELS.md §2.1): μ_j and δ_j read once
  // more, the next sample reusing δ_j from cache. 48 B and 40 B/element.
  ivonUpdateFusedAndSamplePrior: {
    reads: ['mean', 'hess', 'momentum', 'grad', 'noise', 'priorMean', 'priorPrecision'],
    writes: ['mean', 'hess', 'momentum', 'noise', 'theta'],
  },
  ivonUpdateAndDrawPrior: { reads: ['mean', 'hess', 'momentum', 'grad', 'priorMean', 'priorPrecision'], writes: ['mean', 'hess', 'momentum', 'theta'] },
  // drawEpsilon (fillNormal, writes epsilon) + ivonUpdateFusedAndSampleGiven on the same device:
  // 48 B/element — the step with ε drawn ahead when the draw shares the GPU's queue (docs/KERNELS.md §3.1).
  ivonStepDrawnAhead: {
    reads: ['mean', 'hess', 'momentum', 'grad', 'noise', 'epsilon'],
    writes: ['epsilon', 'mean', 'hess', 'momentum', 'noise', 'theta'],
  },
  // One IVON step with the noise regenerated = ivonDraw + ivonUpdateRedraw. 40 B/element.
  ivonStepRedraw: {
    reads: ['mean', 'hess', 'mean', 'hess', 'momentum', 'grad'],
    writes: ['theta', 'mean', 'hess', 'momentum'],
  },
  // reads param, grad, expAvg, expAvgSq; writes param, expAvg, expAvgSq. 28 B/element.
  adamwUpdate: { reads: ['param', 'grad', 'expAvg', 'expAvgSq'], writes: ['param', 'expAvg', 'expAvgSq'] },
  // reads param, grad, momentumBuf; writes param, momentumBuf. 20 B/element.
  sgdUpdate: { reads: ['param', 'grad', 'momentumBuf'], writes: ['param', 'momentumBuf'] },
  // out = z: writes only. 4 B/element (compute-bound in practice).
  fillNormal: { reads: [], writes: ['out'] },
  // dst = src. 8 B/element.
  copy: { reads: ['src'], writes: ['dst'] },
  // z = a·x + y. 12 B/element.
  triad: { reads: ['x', 'y'], writes: ['z'] },
} as const satisfies Record<string, Traffic>;

export type CountedKernel = keyof typeof KERNEL_TRAFFIC;

export function bytesPerElement(kernel: CountedKernel): number {
  const t: Traffic = KERNEL_TRAFFIC[kernel];
  return 4 * (t.reads.length + t.writes.length);
}

/** Bytes one run of `kernel` over `elements` elements must move. */
export function bytesMoved(kernel: CountedKernel, elements: number): number {
  if (!Number.isInteger(elements) || elements < 0) throw new Error(`bytesMoved: elements must be a non-negative integer, got ${elements}`);
  return bytesPerElement(kernel) * elements;
}

/** Floating-point operations of C = op(A)·op(B) with op(A) m×k, op(B) k×n (a multiply and an add each). */
export function gemmFlops(m: number, n: number, k: number): number {
  return 2 * m * n * k;
}
