// Suite 'epoch': one training epoch of the model toolkit's MLP (src/nn: mlp + fit) with IVON
// (one MC sample per step) and with AdamW, same model, data, backend and run — the cost a user
// pays for IVON's uncertainty (target ≤ 1.2× AdamW). The data are seeded synthetic digits-sized
// inputs (64 features, 10 classes, labels from a random linear teacher): epoch time does not
// depend on what the numbers mean. The two optimizers' epochs are timed in alternation.


import type { Runtime } from '../../src/runtime.js';
import type { SuiteContext } from '../context.js';
import { reasonOf } from '../context.js';
import { measurement, type Measurement } from '../results.js';

const WIDTHS = [64, 256, 256, 10];
const EPOCH_REPS = 30;

/**
 * Epochs of each entry run after the timed ones, with its optimizer's calls timed (EpochParts):
 * kept out of the timed epochs, whose ratios are a few percent and whose every allocation counts
 * beside a busy process.
 */
const PARTS_EPOCHS = 10;

/** Where an entry's epochs spent their time, summed over the PARTS_EPOCHS epochs timed by call. */
interface EpochParts {
  /** Timing the calls now. */
  on: boolean;
  epochs: number;
  totalMs: number;
  /** Inside sampledParams(): the block's own work around the callback, and the callback. */
  blocksMs: number;
  /** The callback: the model's forward, loss and backward. */
  modelMs: number;
  /** Inside step(). */
  stepMs: number;
}

type TimedOptimizer = {
  sampledParams<R>(fn: (ctx: never) => R | Promise<R>, options?: object): Promise<R>;
  step(): Promise<unknown>;
};

/**
 * Makes `opt`'s sampledParams and step add their time to `parts` while parts.on (own properties
 * over the class's methods, so fit sees the same object); otherwise they pass straight through.
 */
function timeCalls(opt: TimedOptimizer, parts: EpochParts): void {
  const sampledParams = opt.sampledParams.bind(opt);
  const step = opt.step.bind(opt);
  const timedBlock = async <R>(fn: (ctx: never) => R | Promise<R>, options?: object): Promise<R> => {
    const t0 = performance.now();
    try {
      return await sampledParams(async (ctx: never) => {
        const m0 = performance.now();
        try {
          return await fn(ctx);
        } finally {
          parts.modelMs += performance.now() - m0;
        }
      }, options);
    } finally {
      parts.blocksMs += performance.now() - t0;
    }
  };
  const timedStep = async () => {
    const t0 = performance.now();
    try {
      return await step();
    } finally {
      parts.stepMs += performance.now() - t0;
    }
  };
  Object.assign(opt, {
    sampledParams: <R>(fn: (ctx: never) => R | Promise<R>, options?: object): Promise<R> => (parts.on ? timedBlock(fn, options) : sampledParams(fn, options)),
    step: () => (parts.on ? timedStep() : step()),
  });
}

/** The mean epoch's parts, for the row's note. */
function describeParts(p: EpochParts): string {
  const per = (ms: number) => (ms / p.epochs).toFixed(2);
  const rest = p.totalMs - p.blocksMs - p.stepMs;
  return (
    `per epoch (mean of ${p.epochs} more, timed by call): ${per(p.totalMs)} ms = blocks ${per(p.blocksMs)} (the model's forward/backward ${per(p.modelMs)}) + ` +
    `step() ${per(p.stepMs)} + the rest ${per(rest)} (fit's loop, the posterior check)`
  );
}

function syntheticData(rows: number, inF: number, classes: number): { x: Float32Array; targets: Float64Array; rows: number } {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const teacher = Float64Array.from({ length: inF * classes }, next);
  const x = Float32Array.from({ length: rows * inF }, next);
  const targets = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let score = 0;
      for (let i = 0; i < inF; i++) score += x[r * inF + i] * teacher[i * classes + c];
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    targets[r] = best;
  }
  return { x, targets, rows };
}

export async function runEpochSuite(ctx: SuiteContext): Promise<void> {
  ctx.log(`\n## epoch: one epoch of MLP ${WIDTHS.join('-')} (ReLU, cross-entropy), IVON vs AdamW, wasm on one thread and with workers (targets: IVON ≤ 1.2× AdamW on one thread, ≤ 1.05× with workers)`);
  let nn;
  try {
    const [network, layers, fitModule, runtimeOps, ivon, adamw] = await Promise.all([
      import('../../src/nn/network.js'),
      import('../../src/nn/layers.js'),
      import('../../src/nn/fit.js'),
      import('../../src/nn/runtime-ops.js'),
      import('../../src/optim/ivon.js'),
      import('../../src/optim/adamw.js'),
    ]);
    nn = { mlp: network.mlp, relu: layers.relu, fit: fitModule.fit, createModelOps: runtimeOps.createModelOps, IVON: ivon.IVON, AdamW: adamw.AdamW };
  } catch (error) {
    ctx.skip('epoch', null, `the model toolkit (src/nn: mlp, fit, createModelOps) is not available: ${reasonOf(error)}`);
    return;
  }
  const batchSize = 64;
  const data = syntheticData(ctx.options.quick ? 512 : 2048, WIDTHS[0], WIDTHS[WIDTHS.length - 1]);
  const model = nn.mlp(WIDTHS, nn.relu);
  const init = model.init(1);
  const params = Object.values(init).reduce((n, v) => n + v.length, 0);
  const rows: Measurement[] = [];
  for (const kind of ctx.options.backends) {
    // wasm runs on one thread and with each --workers count, every runtime's epochs in ONE
    // alternation, so the ratios between thread counts are of the same run too.
    const workerCounts = kind === 'wasm' ? [0, ...ctx.options.workers] : [0];
    const opened: Array<{ workers: number; runtime: Runtime }> = [];
    for (const workers of workerCounts) {
      const o = await ctx.openRuntime(kind, workers > 0 ? { workers } : {});
      if (!o.ok) ctx.skip('epoch', `${kind}${workers > 0 ? ` with ${workers} workers` : ''}`, o.reason);
      else if (workers > 0 && o.runtime.workers !== workers) {
        ctx.skip('epoch', `${kind} with ${workers} workers`, `the runtime started ${o.runtime.workers} workers`);
        await o.runtime.dispose();
      } else opened.push({ workers, runtime: o.runtime });
    }
    const entries: Array<{ workers: number; optimizer: string; name: string; note: string; run: () => Promise<void>; parts: EpochParts; runs: () => number; aheadOf?: { runtime: Runtime; blocks: () => number } }> = [];
    const optimizers: Array<{ dispose(): unknown }> = [];
    try {
      for (const { workers, runtime } of opened) {
        const ops = nn.createModelOps(runtime);
        const net = ops.kind === 'webgpu' ? model.bind(await ops.ready(), batchSize) : model.bind(ops, batchSize);
        const note = `${data.rows} rows, batch ${batchSize}, model kernels: ${ops.kind}`;
        // Each entry's epoch, timed as a whole and by part (EpochParts).
        const epochOf = (opt: InstanceType<typeof nn.IVON> | InstanceType<typeof nn.AdamW>, lr: number) => {
          const parts: EpochParts = { on: false, epochs: 0, totalMs: 0, blocksMs: 0, modelMs: 0, stepMs: 0 };
          timeCalls(opt as unknown as TimedOptimizer, parts);
          let runs = 0;
          const run = async () => {
            const t0 = performance.now();
            await nn.fit(net, opt, data, { loss: 'cross-entropy', epochs: 1, batchSize, lr, seed: 3 });
            runs += 1;
            if (!parts.on) return;
            parts.totalMs += performance.now() - t0;
            parts.epochs += 1;
          };
          return { run, parts, runs: () => runs };
        };
        const ivon = new nn.IVON(runtime, { params: init, shapes: model.shapes(), lr: 0.1, ess: data.rows });
        const adamw = new nn.AdamW(runtime, { params: init, shapes: model.shapes(), lr: 1e-3, weightDecay: 1e-2 });
        optimizers.push(ivon, adamw);
        const aheadNote = ivon.noiseAhead.enabled ? '; noise drawn ahead on a worker' : '';
        // Its train blocks, to say for how many of them the noise was drawn ahead (the runtime's jobs).
        const ivonEpoch = epochOf(ivon, 0.1);
        const blocks = () => ivonEpoch.runs() * Math.ceil(data.rows / batchSize);
        entries.push({ workers, optimizer: 'ivon', name: 'epoch', note: note + aheadNote, ...ivonEpoch, ...(ivon.noiseAhead.enabled ? { aheadOf: { runtime, blocks } } : {}) });
        entries.push({ workers, optimizer: 'adamw', name: 'epoch', note, ...epochOf(adamw, 1e-3) });
        if (ivon.noiseAhead.enabled) {
          // The same epoch with the noise drawn inside step(): what drawing it ahead saves.
          const inStep = new nn.IVON(runtime, { params: init, shapes: model.shapes(), lr: 0.1, ess: data.rows, noiseAhead: false });
          optimizers.push(inStep);
          entries.push({ workers, optimizer: 'ivon', name: 'epoch-noise-in-step', note: `${note}; noiseAhead: false`, ...epochOf(inStep, 0.1) });
        }
      }
      // 30 epochs each: single epochs scatter by 10–50% on a shared VM (more beside --busy), the
      // ratios sought are a few percent.
      const summaries = entries.length > 0 ? await ctx.timeInterleaved(entries.map((e) => e.run), { minReps: EPOCH_REPS }) : [];
      // The parts: PARTS_EPOCHS more epochs of each entry, in rounds like the timed ones.
      for (const e of entries) e.parts.on = true;
      for (let round = 0; round < PARTS_EPOCHS; round++) {
        for (let k = 0; k < entries.length; k++) await entries[(k + round) % entries.length].run();
      }
      for (const e of entries) e.parts.on = false;
      entries.forEach((e, i) => {
        const jobs = e.aheadOf?.runtime.explain().noiseAhead?.jobs;
        const ahead = e.aheadOf && jobs !== undefined ? `${e.note} for ${jobs} of its ${e.aheadOf.blocks()} blocks` : e.note;
        const note = `${ahead}; ${describeParts(e.parts)}`;
        rows.push(measurement({ suite: 'epoch', backend: kind, optimizer: e.optimizer, name: e.name, params, workers: e.workers, note }, summaries[i], { perElement: false }));
      });
    } finally {
      for (const opt of optimizers) await opt.dispose();
      for (const { runtime } of opened) await runtime.dispose();
    }
  }
  rows.forEach((r) => ctx.record(r));
  ctx.printTable('epoch', rows);
}
