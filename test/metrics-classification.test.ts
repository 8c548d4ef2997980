// Metrics against hand-computed cases (IVON.md §4): accuracy, NLL, Brier summed over classes,
// ECE with 20 bins summed per bin (not per example), entropy, and AUROC with tied scores.
import { describe, expect, it } from 'vitest';
import {
  accuracy, auroc, brierScore, classificationReport, expectedCalibrationError, maxProbability,
  negativeLogLikelihood, predictiveEntropy, reliabilityBins,
} from '../src/metrics/index.js';

// 5 rows × 2 classes. Confidences .9 (right), .7 (wrong), .52 (wrong), .8 (right), .91 (wrong);
// .9 and .91 share bin 18, so that bin contributes |1 − 1.81| = .81, not .1 + .91.
const probs = [0.9, 0.1, 0.3, 0.7, 0.52, 0.48, 0.2, 0.8, 0.91, 0.09];
const labels = [0, 0, 1, 1, 1];

describe('classification metrics on a hand-computed case', () => {
  it('accuracy counts argmax hits', () => {
    expect(accuracy(probs, labels, 2)).toBe(0.4);
  });

  it('NLL is the mean of −log p̄_y', () => {
    const logp = probs.map(Math.log);
    expect(negativeLogLikelihood(logp, labels, 2)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.3) + Math.log(0.48) + Math.log(0.8) + Math.log(0.09)) / 5, 14);
  });

  it('Brier sums the squared errors over classes, then averages over rows', () => {
    // rows: .02, .98, .5408, .08, 2·.91² = 1.6562
    expect(brierScore(probs, labels, 2)).toBeCloseTo((0.02 + 0.98 + 0.5408 + 0.08 + 1.6562) / 5, 14);
  });

  it('ECE uses 20 bins on max-probability and sums |#correct − Σc| per bin', () => {
    expect(expectedCalibrationError(probs, labels, 2)).toBeCloseTo((0.81 + 0.7 + 0.52 + 0.2) / 5, 14);
    const bins = reliabilityBins(probs, labels, 2);
    expect(bins).toHaveLength(20);
    expect(bins[18]).toMatchObject({ count: 2, correct: 1 });
    expect(bins[18].confidenceSum).toBeCloseTo(1.81, 14);
    expect(bins[10]).toMatchObject({ count: 1, correct: 0 });
  });

  it('a confidence of exactly 1 falls in the last bin; a perfectly calibrated case has ECE 0', () => {
    expect(reliabilityBins([1, 0], [0], 2)[19].count).toBe(1);
    expect(expectedCalibrationError([1, 0, 0, 1], [0, 1], 2)).toBe(0);
    // two rows at confidence .75 in one bin, one right one wrong: |1 − 1.5| / 2
    expect(expectedCalibrationError([0.75, 0.25, 0.75, 0.25], [0, 1], 2)).toBeCloseTo(0.25, 14);
  });

  it('entropy and max-probability per row', () => {
    const h = predictiveEntropy([0.5, 0.5, 1, 0, 0.25, 0.75], 2);
    expect(h[0]).toBeCloseTo(Math.log(2), 14);
    expect(h[1]).toBe(0);
    expect(h[2]).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 14);
    expect(Array.from(maxProbability([0.5, 0.5, 0.1, 0.9], 2))).toEqual([0.5, 0.9]);
  });

  it('classificationReport agrees with the individual metrics', () => {
    const logp = probs.map(Math.log);
    const r = classificationReport(logp, labels, 2);
    expect(r.accuracy).toBe(0.4);
    expect(r.ece).toBeCloseTo(0.446, 12);
    expect(r.brier).toBeCloseTo(0.6554, 12);
  });

  it('rejects labels out of range and ragged matrices', () => {
    expect(() => accuracy(probs, [0, 0, 1, 1, 2], 2)).toThrow(/label 2 at row 4/);
    expect(() => accuracy([0.5, 0.5, 1], [0], 2)).toThrow(/whole number of rows/);
  });
});

describe('OOD AUROC', () => {
  it('counts ties as one half (average ranks)', () => {
    // pairs: .9 beats both, .8 beats .1 and ties .8, .7 beats .1 → (2 + 1.5 + 1) / 6
    expect(auroc([0.9, 0.8, 0.7], [0.1, 0.8])).toBeCloseTo(4.5 / 6, 14);
  });

  it('is 1 for perfect separation, 0 reversed, ½ when every score is equal', () => {
    expect(auroc([3, 4], [1, 2])).toBe(1);
    expect(auroc([1, 2], [3, 4])).toBe(0);
    expect(auroc([1, 1, 1], [1, 1])).toBe(0.5);
  });

  it('equals the pairwise count P(in > out) + ½ P(in = out) on unsorted scores with many ties and ±0', () => {
    const scoresIn = Array.from({ length: 97 }, (_, i) => Math.round(4 * Math.sin(i * 2.3)) / 2);
    const scoresOut = Array.from({ length: 41 }, (_, i) => (i === 0 ? -0 : Math.round(4 * Math.cos(i * 1.7)) / 2 - 0.5));
    let pairs = 0;
    for (const a of scoresIn) for (const b of scoresOut) pairs += a > b ? 1 : a === b ? 0.5 : 0;
    expect(auroc(scoresIn, scoresOut)).toBe(pairs / (97 * 41));
  });

  it('needs both sets and no NaN', () => {
    expect(() => auroc([], [1])).toThrow(/at least one in-domain/);
    expect(() => auroc([1, Number.NaN], [1])).toThrow(/NaN/);
  });
});
