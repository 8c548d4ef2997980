// Part 3, mislabelled examples found. A seeded share of the training labels is flipped to another
// class; both optimizers train on the flipped rows with part 1's chosen settings; then each row is
// ranked three ways: by IVON's memory-perturbation sensitivity (how much the prediction on the row
// would move without it), by AdamW's per-example training loss (the usual baseline), and by the
// sensitivity of the AdamW model with σ² = 1/(N·sqrt(v̂) + δ) from its second moment, as the
// memory-perturbation authors do. Reported: the AUROC of each ranking at telling flipped rows
// from clean ones (paired intervals) and precision at k = the number of flipped rows.
import { auroc, pairedAurocBootstrap } from '../../metrics/index.js';
import { sensitivity } from '../../posterior/index.js';
import { flipLabels } from '../digits.js';
import type { SeedData } from '../job.js';
import { f4, type PartResult } from '../report.js';
import { imageGrid } from '../svg.js';
import { concat, makeNet, mean, newAdamW, newIvon, predictMean, train, type JobContext } from '../train.js';
import { claim } from '../verdict.js';
import type { BaselineSeed } from './baseline.js';

export interface MislabelledSeed {
  seed: number;
  flipped: Uint8Array;
  scores: { ivonSensitivity: Float64Array; adamwLoss: Float64Array; adamwSensitivity: Float64Array };
  /** For the image grid: the rows' pixels, given and true labels. */
  x: Float32Array;
  given: Int32Array;
  truth: Int32Array;
}

type ScoreKey = keyof MislabelledSeed['scores'];
const SCORES: [ScoreKey, string][] = [['ivonSensitivity', 'IVON sensitivity'], ['adamwLoss', 'AdamW training loss'], ['adamwSensitivity', 'AdamW sensitivity (second moment)']];

export async function mislabelledSeed(ctx: JobContext, data: SeedData, base: BaselineSeed): Promise<MislabelledSeed> {
  const c = ctx.config;
  const { set, flipped } = flipLabels(data.train, c.flipFraction, 10, data.seed);
  const net = makeNet(ctx, data.features, 10);
  const adamw = newAdamW(ctx, net, base.chosen.adamw, data.seed);
  const ivon = newIvon(ctx, net, base.chosen.ivon, set.rows, data.seed);
  await train(ctx, net, adamw, set, data.seed, 'AdamW (flipped labels)');
  await train(ctx, net, ivon, set, data.seed, 'IVON (flipped labels)');
  const rows = { x: set.x, targets: set.labels, rows: set.rows };
  const ivonSensitivity = Float64Array.from(await sensitivity(net, ivon, rows));
  // The AdamW stand-in posterior gets the prior precision IVON was given (ess·δ), so both have the same prior.
  const adamwSensitivity = Float64Array.from(await sensitivity(net, adamw, rows, { adamw: { dataSize: set.rows, priorPrecision: base.chosen.ivon.essTimesDelta } }));
  const p = await predictMean(net, adamw, set);
  const adamwLoss = Float64Array.from(set.labels, (y, i) => -p.logProbs[i * 10 + y]);
  adamw.dispose();
  ivon.dispose();
  return { seed: data.seed, flipped, scores: { ivonSensitivity, adamwLoss, adamwSensitivity }, x: set.x, given: set.labels, truth: data.train.labels };
}

function split(scores: ArrayLike<number>, flipped: Uint8Array): { flippedScores: Float64Array; clean: Float64Array } {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < flipped.length; i++) (flipped[i] ? a : b).push(scores[i]);
  return { flippedScores: Float64Array.from(a), clean: Float64Array.from(b) };
}

/** Share of flipped rows among the k highest scores. */
export function precisionAtK(scores: ArrayLike<number>, flipped: Uint8Array, k: number): number {
  const order = Array.from(scores, (s, i) => [s, i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  return order.slice(0, k).reduce((n, [, i]) => n + flipped[i], 0) / k;
}

export function mislabelledPart(ctx: JobContext, seeds: MislabelledSeed[], seconds: number): PartResult {
  const c = ctx.config;
  const pooledSplit = (key: ScoreKey) => {
    const parts = seeds.map((s) => split(s.scores[key], s.flipped));
    return { flippedScores: concat(parts.map((p) => p.flippedScores)), clean: concat(parts.map((p) => p.clean)) };
  };
  const opts = { seed: seeds[0].seed, resamples: c.bootstrapResamples };
  const ivon = pooledSplit('ivonSensitivity');
  const claims = SCORES.slice(1).map(([key, label]) => {
    const other = pooledSplit(key);
    return claim(`mislabelled/${key}`, `AUROC of finding flipped labels, IVON sensitivity − ${label}`, 'IVON', 'AdamW', false, pairedAurocBootstrap(ivon.flippedScores, ivon.clean, other.flippedScores, other.clean, opts));
  });
  const first = seeds[0];
  const k = c.topK;
  const side = Math.round(Math.sqrt(first.x.length / first.given.length));
  const order = Array.from(first.scores.ivonSensitivity, (s, i) => [s, i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  const tile = ([, i]: readonly [number, number]) => ({
    pixels: first.x.subarray(i * side * side, (i + 1) * side * side),
    label: first.flipped[i] ? `${first.given[i]}≠${first.truth[i]}` : `${first.given[i]}`,
    highlight: first.flipped[i] === 1,
  });
  const flippedCount = (s: MislabelledSeed) => s.flipped.reduce((n, v) => n + v, 0);
  return {
    id: 'mislabelled',
    title: '3. Mislabelled examples found',
    method:
      `${c.flipFraction * 100}% of the training labels are flipped to another class (seeded); AdamW and IVON train on them with part 1's chosen settings. ` +
      'Rows are ranked by IVON\'s sensitivity, by AdamW\'s per-example training loss, and by AdamW\'s sensitivity with σ² = 1/(N·sqrt(v̂) + ess·δ). ' +
      'AUROC: flipped rows vs clean rows; precision at k = the number of flipped rows. Intervals: paired bootstrap over the pooled rows of all seeds.',
    tables: [
      {
        title: `Finding the flipped rows, mean over ${seeds.length} seed(s) (${flippedCount(first)} flipped of ${first.flipped.length} on seed ${first.seed})`,
        columns: ['ranking', 'AUROC', 'precision at k = #flipped'],
        rows: SCORES.map(([key, label]) => [
          label,
          f4(mean(seeds.map((s) => { const p = split(s.scores[key], s.flipped); return auroc(p.flippedScores, p.clean); }))),
          f4(mean(seeds.map((s) => precisionAtK(s.scores[key], s.flipped, flippedCount(s))))),
        ]),
      },
    ],
    claims,
    figures: [
      {
        file: 'sensitive-digits.svg',
        caption: `The ${k} most and least sensitive training digits under IVON, seed ${first.seed}; red frames are flipped labels (given≠true)`,
        svg: imageGrid(
          [
            { title: `${k} most sensitive (IVON)`, tiles: order.slice(0, k).map(tile) },
            { title: `${k} least sensitive (IVON)`, tiles: order.slice(-k).reverse().map(tile) },
          ],
          side,
          `Red frame: a flipped label, shown as given≠true. Seed ${first.seed}.`,
        ),
      },
    ],
    notes: [],
    seconds,
    data: {
      perSeed: seeds.map((s) => ({
        seed: s.seed,
        flipped: flippedCount(s),
        auroc: Object.fromEntries(SCORES.map(([key]) => { const p = split(s.scores[key], s.flipped); return [key, auroc(p.flippedScores, p.clean)]; })),
        precisionAtK: Object.fromEntries(SCORES.map(([key]) => [key, precisionAtK(s.scores[key], s.flipped, flippedCount(s))])),
      })),
    },
  };
}
