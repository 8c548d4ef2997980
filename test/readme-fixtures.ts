// Tiny data for the names README code blocks use without defining them (`batches`, `xTrain`, …),
// so test/readme-blocks.test.ts can run every block as written. A README section that uses a new
// undefined name fails that test with a message pointing here: add one entry, as small as the
// example allows (these run on every backend, WebGPU over a software adapter included).
import { loadDigits, subset } from '../src/cli/digits.js';

/** What a fixture may depend on: the backend variant the block is about to run on. */
export interface FixtureEnv {
  /** 'js' | 'wasm' | 'wasm+workers' | 'webgpu'. */
  variant: string;
}

export type Fixture = (env: FixtureEnv) => unknown;

// 192 of the vendored digits: the first 128 train, the next 64 test (the rows are in no class order).
const TRAIN_ROWS = 128;
const TEST_ROWS = 64;
let digits: ReturnType<typeof loadDigits> | undefined;
const rows = (first: number, count: number) => {
  digits ??= loadDigits();
  return subset(digits, Array.from({ length: count }, (_, i) => first + i));
};

interface Batch {
  x: Float32Array;
  y: Int32Array;
  rows: number;
}

/**
 * Quick start 1's "your model": softmax regression x·w + b (w: 64×10 row-major), the minibatch-mean
 * cross-entropy as the loss, its gradient written into `grads` (which the optimizer zero-filled).
 */
function softmaxRegression(batch: Batch, params: { w: Float32Array; b: Float32Array }, grads: { w: Float32Array; b: Float32Array }): number {
  const classes = params.b.length;
  const features = params.w.length / classes;
  const logits = new Float64Array(classes);
  let loss = 0;
  for (let r = 0; r < batch.rows; r++) {
    const x = batch.x.subarray(r * features, (r + 1) * features);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      let z = params.b[c];
      for (let i = 0; i < features; i++) z += x[i] * params.w[i * classes + c];
      logits[c] = z;
      max = Math.max(max, z);
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[c] - max);
    loss += (max + Math.log(sum) - logits[batch.y[r]]) / batch.rows;
    for (let c = 0; c < classes; c++) {
      const dz = (Math.exp(logits[c] - max) / sum - (c === batch.y[r] ? 1 : 0)) / batch.rows;
      grads.b[c] += dz;
      for (let i = 0; i < features; i++) grads.w[i * classes + c] += x[i] * dz;
    }
  }
  return loss;
}

export const FIXTURES: Record<string, Fixture> = {
  // Quick start 1: minibatches of 32 digits (its loop body stands for the user's own model).
  batches: () => [0, 1, 2].map((b) => {
    const set = rows(b * 32, 32);
    return { x: set.x, y: set.labels, rows: set.rows };
  }),
  myModel: () => ({ forwardBackward: softmaxRegression }),
  // Quick start 2: the toolkit on a train and a test split.
  nTrain: () => TRAIN_ROWS,
  xTrain: () => rows(0, TRAIN_ROWS).x,
  yTrain: () => rows(0, TRAIN_ROWS).labels,
  nTest: () => TEST_ROWS,
  xTest: () => rows(TRAIN_ROWS, TEST_ROWS).x,
  yTest: () => rows(TRAIN_ROWS, TEST_ROWS).labels,
};
