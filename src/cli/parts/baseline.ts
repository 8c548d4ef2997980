// Part 1, a fair baseline, and part 5, shifted inputs and "I don't know", which scores part 1's
// very models. Per seed: split the digits into train and test rows, carve a validation split from
// the train rows, train each grid point of both optimizers on the rest for the same epochs, pick
// each optimizer's lowest validation NLL, retrain the winner on all train rows and touch the test
// rows once: the clean copy, a Gaussian-pixel-noise copy and a one-pixel-translated copy. For the
// out-of-distribution check both chosen settings train on the known classes and score the held-out
// ones. Intervals pool every seed's test rows (each seed its own split) and resample them in pairs.
import {
  auroc, classificationReport, maxProbability, pairedAurocBootstrap, pairedBootstrap, reliabilityBins,
  type ClassificationReport,
} from '../../metrics/index.js';
import type { ClassPrediction } from '../../nn/predict.js';
import type { OptimizerSnapshot } from '../../optim/snapshot.js';
import type { AdamwSetting, IvonSetting } from '../config.js';
import { carveValidation, filterLabels, translated, withPixelNoise } from '../digits.js';
import { f4, pct, type PartResult, type Table } from '../report.js';
import { histogramFigure, reliabilityDiagram } from '../svg.js';
import { concat, makeNet, mean, newAdamW, newIvon, pooled, predict, predictMean, train, type JobContext } from '../train.js';
import { claim, type Claim } from '../verdict.js';
import type { SeedData } from '../job.js';

const METRICS = [
  ['accuracy', 'accuracy', false],
  ['nll', 'NLL', true],
  ['ece', 'ECE', true],
  ['brier', 'Brier', true],
] as const;

/** One grid point's validation score. */
export interface TuningRow {
  setting: AdamwSetting | IvonSetting;
  validationNll: number;
  /** AdamW: validation NLL after each epoch (part 2's early stopping reads it). */
  perEpoch?: number[];
}

/** AdamW's early-stopped model: the (setting, epoch) of lowest validation NLL over the grid, its state then. */
export interface AdamwEarlyStop {
  setting: AdamwSetting;
  epoch: number;
  validationNll: number;
  snapshot: OptimizerSnapshot;
}

export interface BaselineSeed {
  seed: number;
  earlyStop: AdamwEarlyStop;
  tuning: { adamw: TuningRow[]; ivon: TuningRow[] };
  chosen: { adamw: AdamwSetting; ivon: IvonSetting };
  test: { adamw: ClassPrediction; ivonMean: ClassPrediction; ivonBma: ClassPrediction; labels: Int32Array };
  noisy: { adamw: ClassPrediction; ivonBma: ClassPrediction };
  shifted: { adamw: ClassPrediction; ivonBma: ClassPrediction };
  ood: { adamw: [ClassPrediction, ClassPrediction]; ivonBma: [ClassPrediction, ClassPrediction]; knownLabels: Int32Array };
  health: { meanHessRatio: number; medianSigma: number; medianStepGain: number };
}

const lowest = (rows: TuningRow[]) => rows.reduce((best, r) => (r.validationNll < best.validationNll ? r : best));

/** Trains every grid point on the fit rows; returns validation NLLs (AdamW per epoch too). */
async function tune(ctx: JobContext, data: SeedData): Promise<{ adamw: TuningRow[]; ivon: TuningRow[]; earlyStop: AdamwEarlyStop }> {
  const { fit: fitRows, validation } = carveValidation(data.train, ctx.config.validationFraction, data.seed);
  const net = makeNet(ctx, data.features, 10);
  const adamw: TuningRow[] = [];
  let earlyStop: AdamwEarlyStop | undefined;
  for (const [i, s] of ctx.config.grids.adamw.entries()) {
    const opt = newAdamW(ctx, net, s, data.seed);
    const perEpoch: number[] = [];
    await train(ctx, net, opt, fitRows, data.seed, `tune AdamW ${i + 1}/${ctx.config.grids.adamw.length}`, async ({ epoch }) => {
      const nll = classificationReport((await predictMean(net, opt, validation)).logProbs, validation.labels, 10).nll;
      perEpoch.push(nll);
      if (!earlyStop || nll < earlyStop.validationNll) earlyStop = { setting: s, epoch, validationNll: nll, snapshot: await opt.snapshot() };
    });
    adamw.push({ setting: s, validationNll: perEpoch[perEpoch.length - 1], perEpoch });
    opt.dispose();
  }
  const ivon: TuningRow[] = [];
  for (const [i, s] of ctx.config.grids.ivon.entries()) {
    const opt = newIvon(ctx, net, s, fitRows.rows, data.seed);
    await train(ctx, net, opt, fitRows, data.seed, `tune IVON ${i + 1}/${ctx.config.grids.ivon.length}`);
    ivon.push({ setting: s, validationNll: classificationReport((await predict(ctx, net, opt, validation)).logProbs, validation.labels, 10).nll });
    opt.dispose();
  }
  return { adamw, ivon, earlyStop: earlyStop! };
}

export async function baselineSeed(ctx: JobContext, data: SeedData): Promise<BaselineSeed> {
  const c = ctx.config;
  const { earlyStop, ...tuning } = await tune(ctx, data);
  const chosen = { adamw: lowest(tuning.adamw).setting as AdamwSetting, ivon: lowest(tuning.ivon).setting as IvonSetting };

  const net = makeNet(ctx, data.features, 10);
  const adamw = newAdamW(ctx, net, chosen.adamw, data.seed);
  const ivon = newIvon(ctx, net, chosen.ivon, data.train.rows, data.seed);
  await train(ctx, net, adamw, data.train, data.seed, 'AdamW (chosen)');
  const outcome = await train(ctx, net, ivon, data.train, data.seed, 'IVON (chosen)');
  const noisySet = withPixelNoise(data.test, c.noiseStd, data.seed);
  const shiftedSet = translated(data.test, 1, 0);
  const result: Omit<BaselineSeed, 'ood'> = {
    seed: data.seed,
    earlyStop,
    tuning,
    chosen,
    test: { adamw: await predict(ctx, net, adamw, data.test), ivonMean: await predictMean(net, ivon, data.test), ivonBma: await predict(ctx, net, ivon, data.test), labels: data.test.labels },
    noisy: { adamw: await predict(ctx, net, adamw, noisySet), ivonBma: await predict(ctx, net, ivon, noisySet) },
    shifted: { adamw: await predict(ctx, net, adamw, shiftedSet), ivonBma: await predict(ctx, net, ivon, shiftedSet) },
    health: { meanHessRatio: outcome.health!.meanHessRatio, medianSigma: outcome.health!.medianSigma, medianStepGain: outcome.health!.medianStepGain },
  };
  adamw.dispose();
  ivon.dispose();

  const isKnown = (y: number) => y < c.knownClasses;
  const knownTrain = filterLabels(data.train, isKnown);
  const known = filterLabels(data.test, isKnown);
  const unknown = filterLabels(data.test, (y) => !isKnown(y));
  const oodNet = makeNet(ctx, data.features, c.knownClasses);
  const oodAdamw = newAdamW(ctx, oodNet, chosen.adamw, data.seed);
  const oodIvon = newIvon(ctx, oodNet, chosen.ivon, knownTrain.rows, data.seed);
  await train(ctx, oodNet, oodAdamw, knownTrain, data.seed, `AdamW (${c.knownClasses} classes)`);
  await train(ctx, oodNet, oodIvon, knownTrain, data.seed, `IVON (${c.knownClasses} classes)`);
  const ood = {
    adamw: [await predict(ctx, oodNet, oodAdamw, known), await predict(ctx, oodNet, oodAdamw, unknown)] as [ClassPrediction, ClassPrediction],
    ivonBma: [await predict(ctx, oodNet, oodIvon, known), await predict(ctx, oodNet, oodIvon, unknown)] as [ClassPrediction, ClassPrediction],
    knownLabels: known.labels,
  };
  oodAdamw.dispose();
  oodIvon.dispose();
  return { ...result, ood };
}

/** Mean over seeds of each model's report, and the pooled paired intervals of IVON BMA − AdamW. */
export function compare(ctx: JobContext, seeds: BaselineSeed[], pick: (s: BaselineSeed) => { adamw: ClassPrediction; ivonBma: ClassPrediction }, idPrefix: string, what: string): { claims: Claim[]; means: { adamw: ClassificationReport; ivonBma: ClassificationReport } } {
  const ivon = pooled(seeds.map((s) => ({ logProbs: pick(s).ivonBma.logProbs, labels: s.test.labels })));
  const adamw = pooled(seeds.map((s) => ({ logProbs: pick(s).adamw.logProbs, labels: s.test.labels })));
  const d = pairedBootstrap(ivon.logProbs, adamw.logProbs, ivon.labels, 10, { seed: seeds[0].seed, resamples: ctx.config.bootstrapResamples });
  const claims = METRICS.map(([key, label, lower]) => claim(`${idPrefix}/${key}`, `${what} ${label}, IVON BMA − AdamW`, 'IVON', 'AdamW', lower, d[key]));
  const meanReport = (key: 'adamw' | 'ivonBma') => {
    const reports = seeds.map((s) => classificationReport(pick(s)[key].logProbs, s.test.labels, 10));
    return Object.fromEntries(METRICS.map(([m]) => [m, mean(reports.map((r) => r[m]))])) as unknown as ClassificationReport;
  };
  return { claims, means: { adamw: meanReport('adamw'), ivonBma: meanReport('ivonBma') } };
}

export const reportRow = (name: string, r: ClassificationReport) => [name, pct(r.accuracy), f4(r.nll), f4(r.ece), f4(r.brier)];
const settingText = (s: AdamwSetting | IvonSetting) =>
  'beta2' in s ? `lr ${s.lr}, β₂ ${s.beta2}, ess·δ ${s.essTimesDelta}` : `lr ${s.lr}, weight decay ${s.weightDecay}`;

export function baselinePart(ctx: JobContext, seeds: BaselineSeed[], seconds: number): PartResult {
  const c = ctx.config;
  const { claims, means } = compare(ctx, seeds, (s) => s.test, 'baseline', 'test');
  const ivonMean = seeds.map((s) => classificationReport(s.test.ivonMean.logProbs, s.test.labels, 10));
  const meanOf = (m: keyof ClassificationReport) => mean(ivonMean.map((r) => r[m]));
  const tables: Table[] = [
    {
      title: `Test rows, mean over ${seeds.length} seed(s)`,
      columns: ['model', 'accuracy', 'NLL', 'ECE', 'Brier'],
      rows: [
        reportRow('AdamW', means.adamw),
        reportRow('IVON (mean)', { accuracy: meanOf('accuracy'), nll: meanOf('nll'), ece: meanOf('ece'), brier: meanOf('brier') }),
        reportRow(`IVON (BMA ${c.bmaSamples})`, means.ivonBma),
      ],
    },
    {
      title: 'Settings chosen on the validation split (lowest validation NLL of each grid), and IVON\'s posterior at the end of training',
      columns: ['seed', 'AdamW', 'val NLL', 'IVON', 'val NLL', 'mean h/h₀', 'median σ'],
      rows: seeds.map((s) => [
        String(s.seed), settingText(s.chosen.adamw), f4(lowest(s.tuning.adamw).validationNll), settingText(s.chosen.ivon), f4(lowest(s.tuning.ivon).validationNll),
        s.health.meanHessRatio.toFixed(3), s.health.medianSigma.toPrecision(3),
      ]),
    },
  ];
  const first = seeds[0];
  return {
    id: 'baseline',
    title: '1. A fair baseline',
    method:
      `Per seed: ${c.validationFraction * 100}% of the training rows are a validation split; each optimizer trains its ${c.grids.adamw.length}-point grid ` +
      `(AdamW: lr × weight decay; IVON: lr × β₂ × ess·δ at h₀ ${c.ivonDefault.hessInit}, ess ${c.ivonDefault.essFactor}·N) for ${c.epochs} epochs on the rest; ` +
      'the lowest validation NLL wins and is retrained on all training rows; the test rows are scored once. Intervals: 95% paired bootstrap over the pooled test rows of all seeds.',
    tables,
    claims,
    figures: [
      {
        file: 'reliability.svg',
        caption: `Reliability on seed ${first.seed}'s test rows`,
        svg: reliabilityDiagram(
          [
            { title: `AdamW — ECE ${classificationReport(first.test.adamw.logProbs, first.test.labels, 10).ece.toFixed(3)}`, bins: reliabilityBins(first.test.adamw.probs, first.test.labels, 10) },
            { title: `IVON mean — ECE ${ivonMean[0].ece.toFixed(3)}`, bins: reliabilityBins(first.test.ivonMean.probs, first.test.labels, 10) },
            { title: `IVON BMA ${c.bmaSamples} — ECE ${classificationReport(first.test.ivonBma.logProbs, first.test.labels, 10).ece.toFixed(3)}`, bins: reliabilityBins(first.test.ivonBma.probs, first.test.labels, 10) },
          ],
          `Reliability on seed ${first.seed}'s ${first.test.labels.length} test rows (20 confidence bins; a calibrated model's bars reach the dashed diagonal)`,
        ),
      },
    ],
    notes: [
      `IVON's curvature at the end (mean over seeds): mean h/h₀ ${mean(seeds.map((s) => s.health.meanHessRatio)).toFixed(3)}, median σ ${mean(seeds.map((s) => s.health.medianSigma)).toPrecision(3)}, median step gain ${mean(seeds.map((s) => s.health.medianStepGain)).toFixed(2)}.`,
    ],
    seconds,
    data: {
      perSeed: seeds.map((s) => ({
        seed: s.seed,
        tuning: s.tuning,
        chosen: s.chosen,
        adamw: classificationReport(s.test.adamw.logProbs, s.test.labels, 10),
        ivonMean: classificationReport(s.test.ivonMean.logProbs, s.test.labels, 10),
        ivonBma: classificationReport(s.test.ivonBma.logProbs, s.test.labels, 10),
        health: s.health,
      })),
      means,
    },
  };
}

/** The "I don't know" scores: higher = more likely a known class. */
function inDomain(p: ClassPrediction) {
  return { maxProb: maxProbability(p.probs, p.classes), negEntropy: p.entropy.map((h) => -h), negMutualInformation: p.mutualInformation.map((m) => -m) };
}

export function shiftPart(ctx: JobContext, seeds: BaselineSeed[], seconds: number): PartResult {
  const c = ctx.config;
  const clean = compare(ctx, seeds, (s) => s.test, 'shift/clean', 'clean');
  const noisy = compare(ctx, seeds, (s) => s.noisy, 'shift/noisy', `noisy (σ ${c.noiseStd})`);
  const shifted = compare(ctx, seeds, (s) => s.shifted, 'shift/translated', 'translated (1 px)');
  const scores = (key: 'adamw' | 'ivonBma', k: 0 | 1) => seeds.map((s) => inDomain(s.ood[key][k]));
  const [ik, iu, ak, au] = [scores('ivonBma', 0), scores('ivonBma', 1), scores('adamw', 0), scores('adamw', 1)];
  const cat = (list: ReturnType<typeof inDomain>[], key: keyof ReturnType<typeof inDomain>) => concat(list.map((x) => x[key]));
  const opts = { seed: seeds[0].seed, resamples: c.bootstrapResamples };
  const oodClaims = [
    claim('shift/ood-maxprob', 'held-out classes, AUROC of max-probability, IVON BMA − AdamW', 'IVON', 'AdamW', false, pairedAurocBootstrap(cat(ik, 'maxProb'), cat(iu, 'maxProb'), cat(ak, 'maxProb'), cat(au, 'maxProb'), opts)),
    claim('shift/ood-entropy', 'held-out classes, AUROC of entropy, IVON BMA − AdamW', 'IVON', 'AdamW', false, pairedAurocBootstrap(cat(ik, 'negEntropy'), cat(iu, 'negEntropy'), cat(ak, 'negEntropy'), cat(au, 'negEntropy'), opts)),
    claim('shift/ood-mi', 'held-out classes, AUROC of IVON\'s mutual information − AUROC of AdamW\'s entropy (AdamW has no posterior)', 'IVON', 'AdamW', false, pairedAurocBootstrap(cat(ik, 'negMutualInformation'), cat(iu, 'negMutualInformation'), cat(ak, 'negEntropy'), cat(au, 'negEntropy'), opts)),
  ];
  const aurocOf = (k: typeof ik, u: typeof iu, key: keyof ReturnType<typeof inDomain>) => mean(k.map((x, i) => auroc(x[key], u[i][key])));
  const first = seeds[0];
  const tables: Table[] = [
    {
      title: `Clean, noisy and translated test rows, mean over ${seeds.length} seed(s)`,
      columns: ['rows', 'model', 'accuracy', 'NLL', 'ECE', 'Brier'],
      rows: [
        ['clean', ...reportRow('AdamW', clean.means.adamw)], ['clean', ...reportRow('IVON BMA', clean.means.ivonBma)],
        [`noise σ ${c.noiseStd}`, ...reportRow('AdamW', noisy.means.adamw)], [`noise σ ${c.noiseStd}`, ...reportRow('IVON BMA', noisy.means.ivonBma)],
        ['1 px right', ...reportRow('AdamW', shifted.means.adamw)], ['1 px right', ...reportRow('IVON BMA', shifted.means.ivonBma)],
      ],
    },
    {
      title: `Held-out classes: trained on digits 0-${c.knownClasses - 1}, digits ${c.knownClasses}-9 unknown; AUROC, mean over seeds`,
      columns: ['model', 'known acc', 'max-prob', 'entropy', 'mutual information'],
      rows: [
        ['AdamW', pct(mean(seeds.map((s) => classificationReport(s.ood.adamw[0].logProbs, s.ood.knownLabels, c.knownClasses).accuracy))), f4(aurocOf(ak, au, 'maxProb')), f4(aurocOf(ak, au, 'negEntropy')), '— (no posterior)'],
        ['IVON BMA', pct(mean(seeds.map((s) => classificationReport(s.ood.ivonBma[0].logProbs, s.ood.knownLabels, c.knownClasses).accuracy))), f4(aurocOf(ik, iu, 'maxProb')), f4(aurocOf(ik, iu, 'negEntropy')), f4(aurocOf(ik, iu, 'negMutualInformation'))],
      ],
    },
  ];
  return {
    id: 'shift',
    title: '5. Noisy and shifted inputs, and "I don\'t know"',
    method:
      `Part 1's models score a copy of the test rows with Gaussian pixel noise (x + N(0, ${c.noiseStd}²), clipped to [0, 1]; seeded) and a copy shifted one pixel right. ` +
      `For the held-out-classes check both chosen settings retrain on digits 0-${c.knownClasses - 1}. Intervals: pooled paired bootstrap (known and unknown rows resampled apart for AUROC).`,
    tables,
    claims: [...clean.claims.filter((x) => x.id.endsWith('nll')), ...noisy.claims, ...shifted.claims, ...oodClaims],
    figures: [
      {
        file: 'entropy.svg',
        caption: `Predictive entropy of known and unknown digits, seed ${first.seed}`,
        svg: histogramFigure(
          [
            { title: 'AdamW', series: [{ label: 'known digits', values: first.ood.adamw[0].entropy }, { label: 'unknown digits', values: first.ood.adamw[1].entropy }] },
            { title: 'IVON BMA', series: [{ label: 'known digits', values: first.ood.ivonBma[0].entropy }, { label: 'unknown digits', values: first.ood.ivonBma[1].entropy }] },
          ],
          Math.ceil(2 * Math.log(c.knownClasses)) / 2,
          'Predictive entropy (nats)',
          `Trained on digits 0-${c.knownClasses - 1}; unknown digits should get higher entropy`,
        ),
      },
    ],
    notes: [],
    seconds,
    data: { clean: clean.means, noisy: noisy.means, translated: shifted.means },
  };
}

