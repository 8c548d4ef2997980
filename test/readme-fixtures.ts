// Tiny data and objects for the names README code blocks use without defining them (`batches`,
// `xTrain`, a trained `net` and `opt`, …), so test/readme-blocks.test.ts can run every block as
// written. A README section that uses a new undefined name fails that test with a message pointing
// here: add one entry, as small as the example allows (these run on every backend, WebGPU over a
// software adapter included). A fixture is made only for a block that uses its name, once per run.
import { loadDigits, subset } from '../src/cli/digits.js';
import type * as Library from '../src/index.js';

/** What a fixture may depend on. */
export interface FixtureEnv {
  /** 'js' | 'wasm' | 'wasm+workers' | 'webgpu'. */
  variant: string;
  /** The library as the block sees it: createRuntime() gives the variant's backend. */
  library: typeof Library;
  /** Another fixture's value in the same run (made once), e.g. the `net` an `opt` trains. */
  get<T>(name: string): Promise<T>;
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

  // A runtime, a small digits MLP and IVON optimizers over it, for sections that start mid-program.
  rt: ({ library }) => library.createRuntime(),
  IVON: ({ library }) => library.IVON,
  x: () => rows(0, TRAIN_ROWS).x,
  labels: () => rows(0, TRAIN_ROWS).labels,
  rows: () => TRAIN_ROWS,
  model: ({ library }) => library.mlp([64, 16, 10], library.relu),
  net: async ({ library, get }) => (await get<ReturnType<typeof library.mlp>>('model')).bind(library.createModelOps(await get('rt')), TRAIN_ROWS),
  opt: (env) => trainedIvon(env, 0, 0),
  base: ({ library, get }) => newIvon(library, get),
  taskA: (env) => trainedIvon(env, 0, TRAIN_ROWS / 2),
  taskB: (env) => trainedIvon(env, TRAIN_ROWS / 2, TRAIN_ROWS / 2),
  fresh: ({ library, get }) => newIvon(library, get),
  // Devices trained on disjoint halves from one shared prior (the base's posterior).
  prior: async ({ library, get }) => library.posteriorOf(await get('base')),
  deviceA: (env) => trainedIvon(env, 0, TRAIN_ROWS / 2),
  deviceB: (env) => trainedIvon(env, TRAIN_ROWS / 2, TRAIN_ROWS / 2),
  // One parameter tensor and a prior for it.
  w: () => Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) * 0.5),
  theta0: () => new Float32Array(16),
  delta: () => new Float32Array(16).fill(1e-2),
};

type Get = FixtureEnv['get'];

async function newIvon(library: typeof Library, get: Get): Promise<InstanceType<typeof Library.IVON>> {
  const model = await get<ReturnType<typeof Library.mlp>>('model');
  return new library.IVON(await get('rt'), { params: model.init(0), shapes: model.shapes(), lr: 0.1, ess: TRAIN_ROWS, hessInit: 0.5, seed: 0 });
}

/** An IVON over `net` after ten epochs on `count` training rows from `first` (all of them when count is 0). */
async function trainedIvon({ library, get }: FixtureEnv, first: number, count: number): Promise<InstanceType<typeof Library.IVON>> {
  const opt = await newIvon(library, get);
  const set = rows(first, count || TRAIN_ROWS);
  await library.fit(await get('net'), opt, { x: set.x, targets: set.labels, rows: set.rows }, { loss: 'cross-entropy', epochs: 10, batchSize: 32, lr: 0.2 });
  return opt;
}
