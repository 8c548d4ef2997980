// Part 2, no validation split. IVON trains on all labelled rows and chooses its stopping epoch and
// its prior precision (ess·δ) by the leave-one-out NLL its posterior estimates (memory
// perturbation, leaveOneOut in src/posterior) — no row is held out. AdamW has no such estimate, so
// it must hold out part 1's validation split for the same two choices: its (weight decay, lr,
// epoch) of lowest validation NLL, trained on the remaining rows. Both are scored once on the test
// rows. The LOO estimate is taken every `LOO_EVERY` epochs on a fixed seeded subset of the training
// rows (an unbiased estimate of the full mean at a quarter of the cost); the figure shows how it
// tracked the true test NLL over training.
import { AdamW } from '../../optim/adamw.js';
import { classificationReport, pairedBootstrap } from '../../metrics/index.js';
import { predictBma, type ClassPrediction } from '../../nn/predict.js';
import type { OptimizerSnapshot } from '../../optim/snapshot.js';
import { permutation, Rng } from '../../nn/random.js';
import { leaveOneOut } from '../../posterior/index.js';
import { subset } from '../digits.js';
import type { SeedData } from '../job.js';
import { f4, type PartResult, type Table } from '../report.js';
import { lineFigure } from '../svg.js';
import { makeNet, mean, newIvon, pooled, predict, train, type JobContext } from '../train.js';
import { claim } from '../verdict.js';
import { reportRow, type BaselineSeed } from './baseline.js';

/** Epochs between two leave-one-out estimates. */
export const LOO_EVERY = 4;
/** Training rows the estimate averages over (a seeded subset; all rows when fewer). */
export const LOO_ROWS = 400;
/** Posterior samples of the figure's test-NLL curve (the reported test numbers use the job's bmaSamples). */
export const CURVE_SAMPLES = 8;

export interface LooCurve {
  essTimesDelta: number;
  epochs: number[];
  loo: number[];
  testNll: number[];
}

export interface NoValidationSeed {
  seed: number;
  ivon: { essTimesDelta: number; epoch: number; loo: number; test: ClassPrediction };
  adamw: { weightDecay: number; lr: number; epoch: number; validationNll: number; test: ClassPrediction };
  labels: Int32Array;
  curves: LooCurve[];
}

export async function noValidationSeed(ctx: JobContext, data: SeedData, base: BaselineSeed): Promise<NoValidationSeed> {
  const c = ctx.config;
  const net = makeNet(ctx, data.features, 10);
  const looRows = subset(data.train, permutation(data.train.rows, new Rng(data.seed + 31)).subarray(0, Math.min(LOO_ROWS, data.train.rows)));
  const looData = { x: looRows.x, targets: looRows.labels, rows: looRows.rows };
  let best: { essTimesDelta: number; epoch: number; loo: number; snapshot: OptimizerSnapshot } | undefined;
  const curves: LooCurve[] = [];
  for (const [i, essTimesDelta] of c.looPriorChoices.entries()) {
    const opt = newIvon(ctx, net, { ...c.ivonDefault, essTimesDelta }, data.train.rows, data.seed);
    const curve: LooCurve = { essTimesDelta, epochs: [], loo: [], testNll: [] };
    await train(ctx, net, opt, data.train, data.seed, `IVON LOO ess·δ ${essTimesDelta} (${i + 1}/${c.looPriorChoices.length})`, async ({ epoch, epochs }) => {
      if ((epoch + 1) % LOO_EVERY !== 0 && epoch + 1 !== epochs) return;
      const loo = (await leaveOneOut(net, opt, looData, { trainingSize: data.train.rows })).nll;
      curve.epochs.push(epoch + 1);
      curve.loo.push(loo);
      // The true test NLL (a cheaper BMA) is drawn in the figure only; it never enters a choice.
      const test = await predictBma(net, opt, data.test.x, data.test.rows, { samples: CURVE_SAMPLES });
      curve.testNll.push(classificationReport(test.logProbs, data.test.labels, 10).nll);
      if (!best || loo < best.loo) best = { essTimesDelta, epoch: epoch + 1, loo, snapshot: await opt.snapshot() };
    });
    curves.push(curve);
    opt.dispose();
  }
  // The chosen (ess·δ, epoch), scored once on the test rows with the job's BMA.
  const chosen = newIvon(ctx, net, { ...c.ivonDefault, essTimesDelta: best!.essTimesDelta }, data.train.rows, data.seed);
  await chosen.restore(best!.snapshot);
  const ivonTest = await predict(ctx, net, chosen, data.test);
  chosen.dispose();
  const stop = base.earlyStop;
  const adamw = new AdamW(ctx.rt, { params: net.model.init(data.seed), shapes: net.model.shapes(), lr: stop.setting.lr, weightDecay: stop.setting.weightDecay });
  await adamw.restore(stop.snapshot);
  const adamwTest = await predict(ctx, net, adamw, data.test);
  adamw.dispose();
  return {
    seed: data.seed,
    ivon: { essTimesDelta: best!.essTimesDelta, epoch: best!.epoch, loo: best!.loo, test: ivonTest },
    adamw: { weightDecay: stop.setting.weightDecay, lr: stop.setting.lr, epoch: stop.epoch + 1, validationNll: stop.validationNll, test: adamwTest },
    labels: data.test.labels,
    curves,
  };
}

const METRICS = [['accuracy', 'accuracy', false], ['nll', 'NLL', true], ['ece', 'ECE', true], ['brier', 'Brier', true]] as const;

export function noValidationPart(ctx: JobContext, seeds: NoValidationSeed[], seconds: number): PartResult {
  const c = ctx.config;
  const ivon = pooled(seeds.map((s) => ({ logProbs: s.ivon.test.logProbs, labels: s.labels })));
  const adamw = pooled(seeds.map((s) => ({ logProbs: s.adamw.test.logProbs, labels: s.labels })));
  const d = pairedBootstrap(ivon.logProbs, adamw.logProbs, ivon.labels, 10, { seed: seeds[0].seed, resamples: c.bootstrapResamples });
  const meanReport = (pick: (s: NoValidationSeed) => ClassPrediction) => {
    const reports = seeds.map((s) => classificationReport(pick(s).logProbs, s.labels, 10));
    return { accuracy: mean(reports.map((r) => r.accuracy)), nll: mean(reports.map((r) => r.nll)), ece: mean(reports.map((r) => r.ece)), brier: mean(reports.map((r) => r.brier)) };
  };
  const chosenCurve = (s: NoValidationSeed) => s.curves.find((k) => k.essTimesDelta === s.ivon.essTimesDelta)!;
  const gaps = seeds.flatMap((s) => chosenCurve(s).loo.map((l, i) => Math.abs(l - chosenCurve(s).testNll[i])));
  const tables: Table[] = [
    {
      title: `Test rows, mean over ${seeds.length} seed(s): IVON trained on all rows, AdamW on the rows left after holding out validation`,
      columns: ['model', 'accuracy', 'NLL', 'ECE', 'Brier'],
      rows: [reportRow('AdamW (validation split)', meanReport((s) => s.adamw.test)), reportRow(`IVON BMA (LOO, all rows)`, meanReport((s) => s.ivon.test))],
    },
    {
      title: 'What each chose',
      columns: ['seed', 'AdamW: lr, weight decay, epoch', 'validation NLL', 'IVON: ess·δ, epoch', 'LOO NLL', 'test NLL at that epoch'],
      rows: seeds.map((s) => [
        String(s.seed), `${s.adamw.lr}, ${s.adamw.weightDecay}, ${s.adamw.epoch}`, f4(s.adamw.validationNll),
        `${s.ivon.essTimesDelta}, ${s.ivon.epoch}`, f4(s.ivon.loo), f4(classificationReport(s.ivon.test.logProbs, s.labels, 10).nll),
      ]),
    },
  ];
  const first = seeds[0];
  const curve = chosenCurve(first);
  return {
    id: 'no-validation',
    title: '2. No validation split',
    method:
      `IVON (lr ${c.ivonDefault.lr}, h₀ ${c.ivonDefault.hessInit}, β₂ ${c.ivonDefault.beta2}) trains on all training rows for each prior precision ess·δ in {${c.looPriorChoices.join(', ')}} and keeps the (ess·δ, epoch) ` +
      `of lowest leave-one-out NLL (estimated every ${LOO_EVERY} epochs on ${LOO_ROWS} seeded training rows). AdamW keeps the (grid setting, epoch) of lowest NLL on part 1's validation split, ` +
      `so it trains on ${100 - c.validationFraction * 100}% of the rows. Intervals: pooled paired bootstrap over the seeds' test rows.`,
    tables,
    claims: METRICS.map(([key, label, lower]) => claim(`no-validation/${key}`, `test ${label}, IVON (LOO, all rows) − AdamW (validation split)`, 'IVON', 'AdamW', lower, d[key])),
    figures: [
      {
        file: 'loo-vs-test.svg',
        caption: `IVON's leave-one-out NLL estimate and the true test NLL (${CURVE_SAMPLES}-sample BMA) over training, seed ${first.seed}; chosen ess·δ ${curve.essTimesDelta}`,
        svg: lineFigure(
          first.curves.map((k) => ({
            title: `ess·δ ${k.essTimesDelta}${k.essTimesDelta === first.ivon.essTimesDelta ? ' (chosen)' : ''}`,
            series: [{ label: 'LOO estimate (training rows)', x: k.epochs, y: k.loo }, { label: 'true test NLL', x: k.epochs, y: k.testNll }],
          })),
          'Epoch',
          'NLL',
          'Leave-one-out NLL from the posterior (no held-out rows) vs the true NLL of the test rows',
        ),
      },
    ],
    notes: [`Mean |LOO − test NLL| over the chosen runs' checkpoints: ${f4(mean(gaps))}.`],
    seconds,
    data: { perSeed: seeds.map((s) => ({ seed: s.seed, ivon: { ...s.ivon, test: undefined }, adamw: { ...s.adamw, test: undefined }, curves: s.curves })) },
  };
}
