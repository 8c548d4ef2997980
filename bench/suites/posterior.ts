// Suite 'posterior': what the posterior's uses cost (issue 12). predictionVariance and sensitivity
// over the digits training split (1 438 rows, MLP 64-128-128-10, ReLU) against one training epoch
// of the same model with IVON (fit, batch 64, one MC sample) on the same backend and run, the three
// timed in alternation. Target: each at most K + 2 = 12 epochs (the linearised variance is one
// forward, one GEMM per layer for S = (a⊙a)·Σ², and K error-only backward GEMMs per layer).

import { openRuntime } from '../backends.js';
import type { SuiteContext } from '../context.js';
import { reasonOf } from '../context.js';
import { measurement, type Measurement } from '../results.js';

const WIDTHS = [64, 128, 128, 10];
const BATCH = 64;

export async function runPosteriorSuite(ctx: SuiteContext): Promise<void> {
  ctx.log(`\n## posterior: predictionVariance and sensitivity over the digits training set vs one IVON epoch, MLP ${WIDTHS.join('-')} (target ≤ K + 2 = ${WIDTHS[WIDTHS.length - 1] + 2} epochs)`);
  let mods;
  try {
    const [index, digits, runtimeOps] = await Promise.all([import('../../src/index.js'), import('../../src/cli/digits.js'), import('../../src/nn/runtime-ops.js')]);
    mods = { ...index, ...digits, createModelOps: runtimeOps.createModelOps };
  } catch (error) {
    ctx.skip('posterior', null, `src/posterior or the digits loader is not available: ${reasonOf(error)}`);
    return;
  }
  const { train } = mods.trainTestSplit(mods.loadDigits(), 0.2, 1);
  const data = { x: train.x, targets: train.labels, rows: train.rows };
  const model = mods.mlp(WIDTHS, mods.relu);
  const init = model.init(1);
  const params = Object.values(init).reduce((n, v) => n + v.length, 0);
  const rows: Measurement[] = [];
  for (const kind of ctx.options.backends) {
    const opened = await openRuntime(kind);
    if (!opened.ok) {
      ctx.skip('posterior', kind, opened.reason);
      continue;
    }
    try {
      const ops = mods.createModelOps(opened.runtime);
      // One network for all three: fit uses batches of 64, the posterior passes chunks of 256.
      const net = ops.kind === 'webgpu' ? model.bind(await ops.ready(), 256) : model.bind(ops, 256);
      const opt = new mods.IVON(opened.runtime, { params: init, shapes: model.shapes(), lr: 0.1, ess: data.rows, weightDecay: 1e-3, hessInit: 0.1 });
      try {
        const note = `${data.rows} rows; epoch: fit batch ${BATCH}, 1 MC sample; model kernels: ${ops.kind}`;
        const epoch = async () => {
          await mods.fit(net, opt, data, { loss: 'cross-entropy', epochs: 1, batchSize: BATCH, lr: 0.05, seed: 3 });
        };
        const variance = async () => {
          await mods.predictionVariance(net, opt, data.x, data.rows);
        };
        const sens = async () => {
          await mods.sensitivity(net, opt, data);
        };
        const [sEpoch, sVariance, sSens] = await ctx.timeInterleaved([epoch, variance, sens]);
        const base = { suite: 'posterior', backend: kind, optimizer: 'ivon', params, workers: 0, note };
        rows.push(measurement({ ...base, name: 'epoch' }, sEpoch, { perElement: false }));
        rows.push(measurement({ ...base, name: 'predictionVariance' }, sVariance, { perElement: false }));
        rows.push(measurement({ ...base, name: 'sensitivity' }, sSens, { perElement: false }));
      } finally {
        opt.dispose();
      }
    } finally {
      await opened.runtime.dispose();
    }
  }
  rows.forEach((r) => ctx.record(r));
  ctx.printTable('posterior', rows);
}
