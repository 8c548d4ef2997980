// The README's toolkit example, runnable: `npx tsx examples/quickstart.ts [epochs]`. Trains an
// MLP on the vendored digits with IVON and reports the 32-sample Bayesian model average.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import {
  accuracy,
  createModelOps,
  createRuntime,
  expectedCalibrationError,
  fit,
  IVON,
  mlp,
  negativeLogLikelihood,
  predictBma,
  relu,
} from 'ivon-edge';

// 1 797 rows of 64 pixels (0..16) and a label; the first 1 400 train, the rest test.
const rows = gunzipSync(readFileSync(new URL('../data/digits.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
const x = new Float32Array(rows.length * 64);
const y = new Int32Array(rows.length);
rows.forEach((line, r) => {
  const v = line.split(',').map(Number);
  for (let j = 0; j < 64; j++) x[r * 64 + j] = v[j] / 16;
  y[r] = v[64];
});
const nTrain = 1400;
const nTest = rows.length - nTrain;
const epochs = Number(process.argv[2] ?? 30);

const rt = await createRuntime();
const model = mlp([64, 128, 10], relu); // Linear fc1, ReLU, Linear fc2
const net = model.bind(createModelOps(rt), 256); // compute on the runtime's backend (GPU buffers on webgpu), batches ≤ 256
const opt = new IVON(rt, { params: model.init(0), shapes: model.shapes(), lr: 0.2, ess: 4 * nTrain, hessInit: 0.5, beta2: 0.9999, seed: 0 });
await fit(net, opt, { x: x.subarray(0, nTrain * 64), targets: y.subarray(0, nTrain), rows: nTrain }, {
  loss: 'cross-entropy',
  epochs,
  batchSize: 64,
  lr: 0.2,
  warmupSteps: 50,
});
const bma = await predictBma(net, opt, x.subarray(nTrain * 64), nTest, { samples: 32 });
const labels = y.subarray(nTrain);
console.log(
  JSON.stringify({
    backend: rt.backend,
    accuracy: accuracy(bma.probs, labels, 10),
    nll: negativeLogLikelihood(bma.logProbs, labels, 10),
    ece: expectedCalibrationError(bma.probs, labels, 10),
    meanEntropy: bma.entropy.reduce((a, b) => a + b, 0) / nTest,
  }),
);
await rt.dispose();
