// What the posterior is for (docs/POSTERIOR.md): prediction variance, memory-perturbation
// sensitivity and leave-one-out estimates, uncertainty-based merging, and moving posteriors
// between optimizers.
export type { Posterior, ParamPosterior } from './types.js';
export { posteriorOf, type AdamwVarianceOptions, type VarianceSourceOptions, type PosteriorOptimizer } from './state.js';
export { predictionVariance, type PredictionVarianceOptions } from './variance.js';
export {
  sensitivity,
  leaveOneOut,
  type PerturbationData,
  type PerturbationOptions,
  type LeaveOneOutOptions,
  type LeaveOneOutResult,
} from './perturbation.js';
export { looEarlyStopping, type LooEarlyStopping, type LooEarlyStoppingOptions } from './early-stopping.js';
export { mergePosteriors, loadPosterior, type MergeOptions, type FineTunedMergeOptions, type ProductMergeOptions, type LoadPosteriorOptions } from './merge.js';
