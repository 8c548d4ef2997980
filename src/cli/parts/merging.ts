// Part 4, merging. A shared base model (IVON) trains on a seeded share of the training rows with
// every class; the remaining rows go to two "devices" by class (A: deviceAClasses, B: the rest).
// Each device fine-tunes the base on its own rows, starting from the base posterior and, where
// IVON has priorMean, with the base as its prior (loadPosterior { asPrior }). Then: the
// uncertainty-weighted merge of the two device posteriors (mergePosteriors), plain averaging of
// their weights, each device alone, and joint fine-tuning on both devices' rows (the upper bound a
// server holding all data would get) — all scored on the test rows of the union of the classes.
import { AdamW, IVON } from '../../index.js';
import { classificationReport, pairedBootstrap } from '../../metrics/index.js';
import type { ClassPrediction } from '../../nn/predict.js';
import { permutation, Rng } from '../../nn/random.js';
import { loadPosterior, mergePosteriors, posteriorOf, type Posterior } from '../../posterior/index.js';
import { filterLabels, subset, type LabelledSet } from '../digits.js';
import type { SeedData } from '../job.js';
import type { PartResult } from '../report.js';
import { makeNet, mean, newIvon, pooled, predict, predictMean, train, type JobContext, type Net } from '../train.js';
import { claim, type Claim } from '../verdict.js';
import { reportRow, type BaselineSeed } from './baseline.js';

export interface MergingSeed {
  seed: number;
  labels: Int32Array;
  /** Whether the devices fine-tuned with the base as their prior (IVON priorMean available). */
  baseAsPrior: boolean;
  rows: { base: number; a: number; b: number };
  predictions: {
    base: ClassPrediction;
    deviceA: ClassPrediction;
    deviceB: ClassPrediction;
    averaged: ClassPrediction;
    mergedMean: ClassPrediction;
    mergedBma: ClassPrediction;
    joint: ClassPrediction;
  };
}

/** IVON can take the base posterior as its prior only once it has priorMean (the prior helper's setPrior). */
function canUseBaseAsPrior(opt: IVON): boolean {
  return typeof (opt as unknown as { setPrior?: unknown }).setPrior === 'function';
}

async function fineTune(ctx: JobContext, net: Net, base: Posterior, data: SeedData, rows: LabelledSet, setting: BaselineSeed['chosen']['ivon'], phase: string): Promise<{ opt: IVON; asPrior: boolean }> {
  const opt = newIvon(ctx, net, setting, rows.rows, data.seed);
  const asPrior = canUseBaseAsPrior(opt);
  await loadPosterior(opt, base, { asPrior });
  await train(ctx, net, opt, rows, data.seed, phase);
  return { opt, asPrior };
}

export async function mergingSeed(ctx: JobContext, data: SeedData, chosen: BaselineSeed['chosen']): Promise<MergingSeed> {
  const c = ctx.config;
  const order = permutation(data.train.rows, new Rng(data.seed + 4242));
  const nBase = Math.round(c.baseFraction * data.train.rows);
  const baseRows = subset(data.train, order.subarray(0, nBase));
  const deviceRows = subset(data.train, order.subarray(nBase));
  const inA = new Set(c.deviceAClasses);
  const rowsA = filterLabels(deviceRows, (y) => inA.has(y));
  const rowsB = filterLabels(deviceRows, (y) => !inA.has(y));
  const net = makeNet(ctx, data.features, 10);

  const baseOpt = newIvon(ctx, net, chosen.ivon, baseRows.rows, data.seed);
  await train(ctx, net, baseOpt, baseRows, data.seed, 'merging: base');
  const basePosterior = await posteriorOf(baseOpt);
  const basePrediction = await predict(ctx, net, baseOpt, data.test);
  baseOpt.dispose();

  const a = await fineTune(ctx, net, basePosterior, data, rowsA, chosen.ivon, 'merging: device A');
  const b = await fineTune(ctx, net, basePosterior, data, rowsB, chosen.ivon, 'merging: device B');
  const joint = await fineTune(ctx, net, basePosterior, data, deviceRows, chosen.ivon, 'merging: joint');
  const [postA, postB] = [await posteriorOf(a.opt), await posteriorOf(b.opt)];
  const predictions = {
    deviceA: await predict(ctx, net, a.opt, data.test),
    deviceB: await predict(ctx, net, b.opt, data.test),
    joint: await predict(ctx, net, joint.opt, data.test),
  };
  [a.opt, b.opt, joint.opt].forEach((o) => o.dispose());

  const merged = mergePosteriors(basePosterior, [postA, postB], { scale: 1 });
  const mergedOpt = newIvon(ctx, net, chosen.ivon, rowsA.rows + rowsB.rows, data.seed);
  await loadPosterior(mergedOpt, merged);
  const mergedMean = await predictMean(net, mergedOpt, data.test);
  const mergedBma = await predict(ctx, net, mergedOpt, data.test);
  mergedOpt.dispose();

  const averagedWeights = Object.fromEntries(Object.keys(postA.params).map((name) => [name, postA.params[name].mean.map((m, j) => (m + postB.params[name].mean[j]) / 2)]));
  const averagedOpt = new AdamW(ctx.rt, { params: averagedWeights, shapes: net.model.shapes(), lr: 0 });
  const averaged = await predictMean(net, averagedOpt, data.test);
  averagedOpt.dispose();
  return {
    seed: data.seed,
    labels: data.test.labels,
    baseAsPrior: a.asPrior,
    rows: { base: baseRows.rows, a: rowsA.rows, b: rowsB.rows },
    predictions: { base: basePrediction, ...predictions, averaged, mergedMean, mergedBma },
  };
}

type Key = keyof MergingSeed['predictions'];
const NAMES: [Key, string][] = [
  ['base', 'base (before fine-tuning)'], ['deviceA', 'device A alone (BMA)'], ['deviceB', 'device B alone (BMA)'],
  ['averaged', 'plain averaging (weights)'], ['mergedMean', 'merged (mean)'], ['mergedBma', 'merged (BMA)'], ['joint', 'joint fine-tuning (BMA)'],
];

export function mergingPart(ctx: JobContext, seeds: MergingSeed[], seconds: number): PartResult {
  const c = ctx.config;
  const all = (key: Key) => pooled(seeds.map((s) => ({ logProbs: s.predictions[key].logProbs, labels: s.labels })));
  const opts = { seed: seeds[0].seed, resamples: c.bootstrapResamples };
  const versus = (a: Key, b: Key, aName: string, bName: string): Claim[] => {
    const [pa, pb] = [all(a), all(b)];
    const d = pairedBootstrap(pa.logProbs, pb.logProbs, pa.labels, 10, opts);
    return [
      claim(`merging/${a}-vs-${b}/accuracy`, `union test accuracy, ${aName} − ${bName}`, aName, bName, false, d.accuracy),
      claim(`merging/${a}-vs-${b}/nll`, `union test NLL, ${aName} − ${bName}`, aName, bName, true, d.nll),
    ];
  };
  const meanReport = (key: Key) => {
    const r = seeds.map((s) => classificationReport(s.predictions[key].logProbs, s.labels, 10));
    return { accuracy: mean(r.map((x) => x.accuracy)), nll: mean(r.map((x) => x.nll)), ece: mean(r.map((x) => x.ece)), brier: mean(r.map((x) => x.brier)) };
  };
  const asPrior = seeds.every((s) => s.baseAsPrior);
  const first = seeds[0];
  return {
    id: 'merging',
    title: '4. Two devices, one model: merging',
    method:
      `A base IVON model trains on ${c.baseFraction * 100}% of the training rows (all classes, ${first.rows.base} rows on seed ${first.seed}); device A fine-tunes it on the other rows of classes ` +
      `${c.deviceAClasses.join(', ')} (${first.rows.a}), device B on the rest (${first.rows.b}), each starting from the base posterior${asPrior ? ' with the base as its prior (priorMean = base)' : ''}. ` +
      'Merged: mergePosteriors(base, [A, B], { scale: 1 }); averaging: the mean of the two devices\' weights; joint: fine-tuning on both devices\' rows. Scored on all test rows (the union of the classes).',
    tables: [{ title: `Union test rows, mean over ${seeds.length} seed(s)`, columns: ['model', 'accuracy', 'NLL', 'ECE', 'Brier'], rows: NAMES.map(([key, name]) => reportRow(name, meanReport(key))) }],
    claims: [
      ...versus('mergedMean', 'averaged', 'merged', 'averaging'),
      ...versus('mergedBma', 'deviceA', 'merged', 'device A alone'),
      ...versus('mergedBma', 'deviceB', 'merged', 'device B alone'),
      ...versus('mergedBma', 'joint', 'merged', 'joint training'),
    ],
    figures: [],
    notes: asPrior
      ? []
      : ['IVON has no priorMean in this build: the devices fine-tuned from the base posterior with the prior centred at 0, so the merge is an approximation of the uncertainty-based merge (exact only with priorMean = base).'],
    seconds,
    data: { perSeed: seeds.map((s) => ({ seed: s.seed, rows: s.rows, baseAsPrior: s.baseAsPrior, reports: Object.fromEntries(NAMES.map(([key]) => [key, classificationReport(s.predictions[key].logProbs, s.labels, 10)])) })) },
  };
}
