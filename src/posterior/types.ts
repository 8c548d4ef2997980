// The posterior as a value: what IVON learned about each weight, detached from any optimizer or
// backend. Merging (mergePosteriors), the precision-weighted product of posteriors trained from one
// shared prior, and federated aggregation all take and return this shape, so a posterior can move
// between devices, be combined, and be loaded into a new optimizer as its start or its prior.
//
// Units follow IVON.md §1: the optimizer's σ² = 1 / (ess · (hess + priorPrecision)), where
// priorPrecision is the per-element δ (the group's scalar weightDecay broadcast when the optimizer
// has no per-element prior). The absolute precision of element j is ess · (hess_j + priorPrecision_j).

/** One parameter tensor's posterior. All arrays have shape.product elements. */
export interface ParamPosterior {
  readonly shape: readonly number[];
  /** m: the posterior mean (the weights). */
  readonly mean: Float32Array;
  /** h: IVON's curvature estimate (may be slightly negative; hess + priorPrecision > 0). */
  readonly hess: Float32Array;
  /** δ per element: the prior precision in IVON's units (absolute prior precision = ess · δ). */
  readonly priorPrecision: Float32Array;
  /** μ₀ per element: the prior mean the weight decay pulls toward (zeros without a priorMean). */
  readonly priorMean: Float32Array;
  /** λ: the effective sample size of the parameter's group. */
  readonly ess: number;
}

/** A whole model's posterior, by parameter name (frozen parameters are not included). */
export interface Posterior {
  readonly params: Readonly<Record<string, ParamPosterior>>;
}
