// The backend-independent picture of an optimizer's complete state: everything an exact resume
// needs (IVON.md §6). Optimizers produce and accept it; checkpoints serialise it.

export type OptimizerKind = 'ivon' | 'adamw' | 'sgd';

export interface TensorState {
  /** Logical shape of the parameter (product = element count). */
  shape: number[];
  /** The weights (IVON's mean m). */
  mean: Float32Array;
  /** IVON curvature h. */
  hess?: Float32Array;
  /** IVON / SGD momentum, AdamW exp_avg. */
  momentum?: Float32Array;
  /** AdamW exp_avg_sq. */
  expAvgSq?: Float32Array;
  /** IVON per-element prior mean μ₀ (only when the optimizer has a per-element prior). */
  priorMean?: Float32Array;
  /** IVON per-element prior precision δ (only when the optimizer has a per-element prior). */
  priorPrecision?: Float32Array;
}

export interface GroupState {
  /** Parameter names of this group, in layout order. */
  params: string[];
  /** Every hyper-parameter of the group (lr, ess, hessInit, weightDecay, beta1, beta2, clipRadius,
   *  frozen, ... depending on the optimizer). */
  hyper: Record<string, number | boolean>;
}

export interface OptimizerSnapshot {
  kind: OptimizerKind;
  /** Completed steps t. */
  step: number;
  /** Steps skipped because of non-finite gradients (nonFinite: 'skip'). */
  skippedSteps: number;
  /** Optimizer-wide options (mcSamples, hessApprox, debias, rescaleLr, seed, nonFinite, ...). */
  options: Record<string, number | boolean | string>;
  /** RNG position: the counter fields that are not derived from step (prediction draws so far). */
  rng: { seed: number; predictDraws: number };
  groups: GroupState[];
  tensors: Record<string, TensorState>;
}
