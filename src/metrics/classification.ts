// Classification metrics exactly as IVON.md §4 (the paper's code): accuracy, NLL, Brier summed
// over classes, ECE with 20 equal-width confidence bins, predictive entropy. Inputs are row-major
// rows × classes matrices of predictive probabilities p̄ (or log p̄ for the NLL, which keeps
// precision for confident predictions).

function checkMatrix(fn: string, m: ArrayLike<number>, labels: ArrayLike<number> | undefined, classes: number): number {
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`${fn}: classes must be a positive integer, got ${classes}`);
  if (m.length % classes !== 0) throw new Error(`${fn}: ${m.length} values is not a whole number of rows of ${classes} classes`);
  const rows = m.length / classes;
  if (rows === 0) throw new Error(`${fn}: no rows to score`);
  if (labels) {
    if (labels.length !== rows) throw new Error(`${fn}: ${labels.length} labels for ${rows} rows`);
    for (let i = 0; i < rows; i++) {
      const y = labels[i];
      if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`${fn}: label ${y} at row ${i} is not an integer in 0..${classes - 1}`);
    }
  }
  return rows;
}

/** Index of the largest entry of row i (the first one on ties). */
export function argmaxRow(m: ArrayLike<number>, i: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if (m[i * classes + k] > m[i * classes + best]) best = k;
  return best;
}

/** Fraction of rows whose most probable class is the label. */
export function accuracy(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const rows = checkMatrix('accuracy', probs, labels, classes);
  let correct = 0;
  for (let i = 0; i < rows; i++) if (argmaxRow(probs, i, classes) === labels[i]) correct++;
  return correct / rows;
}

/** Mean of −log p̄_y, from log-probabilities. */
export function negativeLogLikelihood(logProbs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const rows = checkMatrix('negativeLogLikelihood', logProbs, labels, classes);
  let total = 0;
  for (let i = 0; i < rows; i++) total -= logProbs[i * classes + labels[i]];
  return total / rows;
}

/** Mean over rows of Σ_k (p̄_k − [k = y])². */
export function brierScore(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const rows = checkMatrix('brierScore', probs, labels, classes);
  let total = 0;
  for (let i = 0; i < rows; i++)
    for (let k = 0; k < classes; k++) {
      const d = probs[i * classes + k] - (k === labels[i] ? 1 : 0);
      total += d * d;
    }
  return total / rows;
}

export interface ReliabilityBin {
  /** Confidence range [lower, upper). */
  lower: number;
  upper: number;
  count: number;
  correct: number;
  /** Σ confidence of the bin's rows. */
  confidenceSum: number;
}

export const ECE_BINS = 20;

/** The confidence bin of a row: clamp(floor(bins·max p̄), 0, bins − 1). */
function binOf(confidence: number, bins: number): number {
  return Math.min(Math.max(Math.floor(bins * confidence), 0), bins - 1);
}

/** The 20 equal-width confidence bins: bin = clamp(floor(20·max p̄), 0, 19). */
export function reliabilityBins(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number, bins = ECE_BINS): ReliabilityBin[] {
  const rows = checkMatrix('reliabilityBins', probs, labels, classes);
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({ lower: b / bins, upper: (b + 1) / bins, count: 0, correct: 0, confidenceSum: 0 }));
  for (let i = 0; i < rows; i++) {
    const pred = argmaxRow(probs, i, classes);
    const c = probs[i * classes + pred];
    const b = binOf(c, bins);
    out[b].count++;
    out[b].confidenceSum += c;
    if (pred === labels[i]) out[b].correct++;
  }
  return out;
}

/** ECE = Σ_b |#correct_b − Σ_{i∈b} c_i| / n with 20 bins. */
export function expectedCalibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const bins = reliabilityBins(probs, labels, classes);
  const rows = probs.length / classes;
  let total = 0;
  for (const b of bins) total += Math.abs(b.correct - b.confidenceSum);
  return total / rows;
}

/** Per-row predictive entropy −Σ_k p̄_k log p̄_k (nats; 0·log 0 = 0). */
export function predictiveEntropy(probs: ArrayLike<number>, classes: number): Float64Array {
  const rows = checkMatrix('predictiveEntropy', probs, undefined, classes);
  const h = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const p = probs[i * classes + k];
      if (p > 0) s -= p * Math.log(p);
    }
    h[i] = s;
  }
  return h;
}

/** Per-row max_k p̄_k (the confidence, and the in-domain score of the OOD check). */
export function maxProbability(probs: ArrayLike<number>, classes: number): Float64Array {
  const rows = checkMatrix('maxProbability', probs, undefined, classes);
  const c = new Float64Array(rows);
  for (let i = 0; i < rows; i++) c[i] = probs[i * classes + argmaxRow(probs, i, classes)];
  return c;
}

export interface ClassificationReport {
  accuracy: number;
  nll: number;
  ece: number;
  brier: number;
}

/** The four numbers of the main job's table, from log p̄. */
export function classificationReport(logProbs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): ClassificationReport {
  const probs = Float64Array.from(logProbs as ArrayLike<number>, Math.exp);
  return {
    accuracy: accuracy(probs, labels, classes),
    nll: negativeLogLikelihood(logProbs, labels, classes),
    ece: expectedCalibrationError(probs, labels, classes),
    brier: brierScore(probs, labels, classes),
  };
}

/**
 * Each row's share of the report, so that the report of any multiset of rows (a bootstrap
 * resample: metrics/bootstrap.ts) costs one pass over the drawn rows: accuracy, NLL and Brier are
 * the means of `correct`, `nll` and `brier`; ECE is Σ over bins of |Σ (correct − confidence)| of
 * the bin's rows, over the row count. Over all rows once each, this is classificationReport.
 */
export interface RowScores {
  correct: Uint8Array;
  nll: Float64Array;
  brier: Float64Array;
  confidence: Float64Array;
  /** The row's ECE bin (ECE_BINS equal-width bins of the confidence). */
  bin: Int32Array;
}

export function rowScores(logProbs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): RowScores {
  const rows = checkMatrix('rowScores', logProbs, labels, classes);
  const probs = Float64Array.from(logProbs as ArrayLike<number>, Math.exp);
  const out: RowScores = {
    correct: new Uint8Array(rows),
    nll: new Float64Array(rows),
    brier: new Float64Array(rows),
    confidence: new Float64Array(rows),
    bin: new Int32Array(rows),
  };
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    const pred = argmaxRow(probs, i, classes);
    out.correct[i] = pred === y ? 1 : 0;
    out.nll[i] = -logProbs[i * classes + y];
    let brier = 0;
    for (let k = 0; k < classes; k++) {
      const d = probs[i * classes + k] - (k === y ? 1 : 0);
      brier += d * d;
    }
    out.brier[i] = brier;
    out.confidence[i] = probs[i * classes + pred];
    out.bin[i] = binOf(out.confidence[i], ECE_BINS);
  }
  return out;
}
