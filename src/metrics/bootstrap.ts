// How sure can one test split make us? A paired percentile bootstrap of the difference of a
// metric between two models scored on the same rows: resample the rows with replacement, score
// both models on the same resample, keep the difference (for the OOD AUROC, the known and the
// unknown rows are resampled separately, so every resample keeps both kinds). On the digits' 359 test rows the NLL of
// a single seed moves by more than the gap between AdamW and IVON, so the main job prints these
// intervals next to its table instead of letting one split pass for a verdict.

import { Rng } from '../nn/random.js';
import { auroc } from './auroc.js';
import { quantile } from './quantile.js';
import { classificationReport, ECE_BINS, rowScores, type ClassificationReport, type RowScores } from './classification.js';

export interface DifferenceInterval {
  /** metric(a) − metric(b) on all rows. */
  difference: number;
  /** Percentile bounds of the resampled differences (e.g. 2.5% and 97.5% for level 0.95). */
  lower: number;
  upper: number;
}

export type ReportDifference = Record<keyof ClassificationReport, DifferenceInterval>;

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Coverage of the interval, in (0, 1) (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 0): the same inputs and seed give the same interval. */
  seed?: number;
}

function checkOptions(fn: string, resamples: number, level: number): void {
  if (!Number.isInteger(resamples) || resamples < 2) throw new Error(`${fn}: resamples must be an integer ≥ 2, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`${fn}: level must be in (0, 1), got ${level}`);
}

/** The interval of `level` coverage from the resampled differences (sorted in place). */
function intervalOf(difference: number, resampled: Float64Array, level: number): DifferenceInterval {
  const sorted = resampled.sort();
  const tail = (1 - level) / 2;
  return { difference, lower: quantile(sorted, tail), upper: quantile(sorted, 1 - tail) };
}

/** classificationReport of the rows `drawn` (with repeats), from their RowScores; binSums is scratch. */
function reportOfRows(scores: RowScores, drawn: Int32Array, binSums: Float64Array): ClassificationReport {
  let correct = 0;
  let nll = 0;
  let brier = 0;
  binSums.fill(0);
  for (const i of drawn) {
    correct += scores.correct[i];
    nll += scores.nll[i];
    brier += scores.brier[i];
    binSums[scores.bin[i]] += scores.correct[i] - scores.confidence[i];
  }
  let ece = 0;
  for (const sum of binSums) ece += Math.abs(sum);
  const n = drawn.length;
  return { accuracy: correct / n, nll: nll / n, ece: ece / n, brier: brier / n };
}

/**
 * Paired bootstrap of classificationReport(a) − classificationReport(b): `logProbsA` and
 * `logProbsB` are rows × classes log-probabilities of the same rows, `labels` their classes.
 */
export function pairedBootstrap(
  logProbsA: ArrayLike<number>,
  logProbsB: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  options: BootstrapOptions = {},
): ReportDifference {
  const { resamples = 2000, level = 0.95, seed = 0 } = options;
  checkOptions('pairedBootstrap', resamples, level);
  if (logProbsA.length !== logProbsB.length) {
    throw new Error(`pairedBootstrap: the two models scored different row counts (${logProbsA.length} vs ${logProbsB.length} values); score both on the same rows`);
  }
  // classificationReport validates shapes and labels (and throws with the reason) on the full set.
  const fullA = classificationReport(logProbsA, labels, classes);
  const fullB = classificationReport(logProbsB, labels, classes);
  const metrics = Object.keys(fullA) as (keyof ClassificationReport)[];
  const [rowsA, rowsB] = [rowScores(logProbsA, labels, classes), rowScores(logProbsB, labels, classes)];
  const rows = labels.length;
  const rng = new Rng(seed);
  const drawn = new Int32Array(rows);
  const binSums = new Float64Array(ECE_BINS);
  const differences = Object.fromEntries(metrics.map((m) => [m, new Float64Array(resamples)])) as Record<keyof ClassificationReport, Float64Array>;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < rows; i++) drawn[i] = rng.below(rows);
    const a = reportOfRows(rowsA, drawn, binSums);
    const b = reportOfRows(rowsB, drawn, binSums);
    for (const m of metrics) differences[m][r] = a[m] - b[m];
  }
  const out = {} as ReportDifference;
  for (const m of metrics) out[m] = intervalOf(fullA[m] - fullB[m], differences[m], level);
  return out;
}

/**
 * Paired bootstrap of auroc(a) − auroc(b): model a scored the known rows `knownA` and the unknown
 * rows `unknownA`, model b the same rows in the same order (`knownB`, `unknownB`).
 */
export function pairedAurocBootstrap(
  knownA: ArrayLike<number>,
  unknownA: ArrayLike<number>,
  knownB: ArrayLike<number>,
  unknownB: ArrayLike<number>,
  options: BootstrapOptions = {},
): DifferenceInterval {
  const { resamples = 2000, level = 0.95, seed = 0 } = options;
  checkOptions('pairedAurocBootstrap', resamples, level);
  if (knownA.length !== knownB.length || unknownA.length !== unknownB.length) {
    throw new Error(
      `pairedAurocBootstrap: the two models scored different rows (known ${knownA.length} vs ${knownB.length}, unknown ${unknownA.length} vs ${unknownB.length}); score both on the same rows`,
    );
  }
  const full = auroc(knownA, unknownA) - auroc(knownB, unknownB); // validates counts and NaN
  const rng = new Rng(seed);
  const kA = new Float64Array(knownA.length), kB = new Float64Array(knownA.length);
  const uA = new Float64Array(unknownA.length), uB = new Float64Array(unknownA.length);
  const differences = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < kA.length; i++) {
      const row = rng.below(kA.length);
      kA[i] = knownA[row];
      kB[i] = knownB[row];
    }
    for (let i = 0; i < uA.length; i++) {
      const row = rng.below(uA.length);
      uA[i] = unknownA[row];
      uB[i] = unknownB[row];
    }
    differences[r] = auroc(kA, uA) - auroc(kB, uB);
  }
  return intervalOf(full, differences, level);
}
