// The model toolkit's public surface: layers, a Sequential MLP, losses, a fit loop, Bayesian
// prediction and the compute ops that run them on the runtime's backend.

export { Linear, Activation, relu, gelu, tanh, initParams, type Layer } from './layers.js';
export { Sequential, Network, mlp, type TensorSource, type GradSink } from './network.js';
export { softmaxCrossEntropy, meanSquaredError, gaussianNll, gaussianHead, softplus, lossValue, type LossKind } from './losses.js';
export { fit, scheduledLr, type TrainData, type FitOptions, type FitProgress, type FitResult, type FitEpochInfo } from './fit.js';
export { posteriorHealth, type PosteriorHealth } from './posterior-health.js';
export {
  predictBma,
  predictAtMean,
  predictGaussianBma,
  predictGaussianAtMean,
  type ClassPrediction,
  type GaussianPrediction,
  type PredictOptions,
} from './predict.js';
export { createModelOps, createNnOps } from './runtime-ops.js';
export { GpuNetwork } from '../../gpu/nn/gpu-network.js';
export { GpuNnOps } from '../../gpu/nn/gpu-ops.js';
export { JsOps, type NnOps } from './ops.js';
export { Rng, permutation } from './random.js';
export type { TrainableOptimizer } from './trainable.js';
