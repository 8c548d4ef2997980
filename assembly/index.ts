// The WASM module's entry: every kernel of docs/KERNELS.md by its contract name, plus the model
// toolkit's kernels (nn.ts). Named re-exports only, so internal v128 globals stay unexported.

export { philoxBlocks } from './philox';
export { fillNormal } from './normal';
export { ivonSample, ivonSampleGiven, ivonAccumulate, ivonUpdate, ivonUpdateFused, ivonDraw, ivonUpdateRedraw, ivonUpdateAndDraw, ivonUpdateFusedAndSample } from './ivon';
export { adamwUpdate } from './adamw';
export { sgdUpdate } from './sgd';
export { copy, triad, countNonFinite } from './probe';
export { heapBase } from './constants';
export * from './nn';
