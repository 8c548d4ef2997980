// The public surface of ivon-edge. Everything a user imports comes from here.

export { createRuntime } from './runtime.js';
export type { Runtime, RuntimeOptions, RuntimeExplanation, BackendChoice } from './runtime.js';
export type { Backend, BackendKind, Arena, Range, Role, BufferBinding } from './backend.js';
export { IVON } from './optim/ivon.js';
export type { IvonOptions, IvonGroupOptions, IvonGroupHyper, IvonParamState, IvonPriorOptions } from './optim/ivon.js';
export type { PriorInput, PriorValues } from './optim/prior.js';
export { AdamW } from './optim/adamw.js';
export type { AdamwOptions, AdamwGroupOptions, AdamwGroupHyper } from './optim/adamw.js';
export { SGD } from './optim/sgd.js';
export type { SgdOptions, SgdGroupOptions, SgdGroupHyper } from './optim/sgd.js';
export { RecoveredError } from './optim/optimizer.js';
export type { Optimizer, SampledParamsOptions, StepResult, NonFinitePolicy, RecoveryInfo, RecoveryOptions } from './optim/optimizer.js';
export type { SampleContext } from './optim/sample-context.js';
export type { OptimizerSnapshot, TensorState, GroupState, OptimizerKind } from './optim/snapshot.js';
export type { Layout, ParamSlot, GroupSlot } from './optim/layout.js';
export { ConfigError, UsageError, NonFiniteGradientError } from './errors.js';
export {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  exportMeans,
  saveCheckpoint,
  loadCheckpoint,
  saveCheckpointFile,
  loadCheckpointFile,
  saveCheckpointToOpfs,
  loadCheckpointFromOpfs,
  downloadCheckpoint,
} from './checkpoint/index.js';
export type { CheckpointExpectation, DecodeOptions } from './checkpoint/index.js';
export * from './nn/index.js';
export * from './metrics/index.js';
export * from './posterior/index.js';
export { NoBackendError } from './scheduler/errors.js';
export { WorkerCrashedError, WorkerTimeoutError, WorkerStartError } from './backends/pool-errors.js';
export { DeviceLostError, WebGpuUnavailableError, WebGpuLimitError } from '../gpu/errors.js';
