// The paired bootstrap behind the main job's "IVON − AdamW" intervals: exact where every resample
// must give the same difference, the binomial interval where the answer is known in closed form,
// reproducible from its seed, and clear errors on inputs that cannot be paired.
import { describe, expect, it } from 'vitest';
import { auroc, classificationReport, ECE_BINS, pairedAurocBootstrap, pairedBootstrap, rowScores } from '../src/metrics/index.js';

/** Rows × 2 log-probabilities: `confident` puts all mass on the label, otherwise 50/50. */
function twoClassLogProbs(labels: Int32Array, confident: boolean): Float64Array {
  const out = new Float64Array(labels.length * 2);
  labels.forEach((y, i) => {
    out[2 * i] = confident ? (y === 0 ? 0 : -Infinity) : Math.log(0.5);
    out[2 * i + 1] = confident ? (y === 1 ? 0 : -Infinity) : Math.log(0.5);
  });
  return out;
}

describe('pairedBootstrap', () => {
  const n = 400;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const perfect = twoClassLogProbs(labels, true);
  const uniform = twoClassLogProbs(labels, false);

  it('the per-row scores the resamples are built from add up to classificationReport', () => {
    // 50 rows × 4 classes of softmax log-probabilities, confident and unsure rows mixed.
    const classes = 4;
    const rowLabels = Int32Array.from({ length: 50 }, (_, i) => (i * 7) % classes);
    const logProbs = new Float64Array(50 * classes);
    for (let i = 0; i < 50; i++) {
      const logits = Array.from({ length: classes }, (_, k) => 3 * Math.sin(i * 1.3 + k * 2.1));
      const z = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
      logits.forEach((v, k) => (logProbs[i * classes + k] = v - z));
    }
    const s = rowScores(logProbs, rowLabels, classes);
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0) / a.length;
    const binSums = new Float64Array(ECE_BINS);
    s.bin.forEach((b, i) => (binSums[b] += s.correct[i] - s.confidence[i]));
    const report = classificationReport(logProbs, rowLabels, classes);
    expect(mean(s.correct)).toBeCloseTo(report.accuracy, 12);
    expect(mean(s.nll)).toBeCloseTo(report.nll, 12);
    expect(mean(s.brier)).toBeCloseTo(report.brier, 12);
    expect(Array.from(binSums).reduce((x, v) => x + Math.abs(v), 0) / 50).toBeCloseTo(report.ece, 12);
  });

  it('a model against itself: every difference and bound is exactly 0', () => {
    const d = pairedBootstrap(uniform, uniform, labels, 2, { resamples: 200 });
    for (const m of ['accuracy', 'nll', 'ece', 'brier'] as const) expect(d[m]).toEqual({ difference: 0, lower: 0, upper: 0 });
  });

  it('differences that do not depend on the rows drawn have a zero-width interval', () => {
    // Per row: NLL 0 vs ln 2, Brier 0 vs 0.5, whatever the resample.
    const d = pairedBootstrap(perfect, uniform, labels, 2, { resamples: 500 });
    for (const v of [d.nll.difference, d.nll.lower, d.nll.upper]) expect(v).toBeCloseTo(-Math.LN2, 12);
    for (const v of [d.brier.difference, d.brier.lower, d.brier.upper]) expect(v).toBeCloseTo(-0.5, 12);
  });

  it('accuracy: the interval of a binomial proportion (the 50/50 model is right on label 0 rows only)', () => {
    // Accuracy difference = 1 − (share of label-0 rows in the resample), share ~ Binomial(n, ½)/n:
    // 95% interval ½ ± 1.96·sqrt(¼/n) = ½ ± 0.049 for n = 400.
    const d = pairedBootstrap(perfect, uniform, labels, 2, { resamples: 4000, seed: 7 });
    expect(d.accuracy.difference).toBe(0.5);
    expect(d.accuracy.lower).toBeGreaterThan(0.5 - 0.049 - 0.012);
    expect(d.accuracy.lower).toBeLessThan(0.5 - 0.049 + 0.012);
    expect(d.accuracy.upper).toBeGreaterThan(0.5 + 0.049 - 0.012);
    expect(d.accuracy.upper).toBeLessThan(0.5 + 0.049 + 0.012);
    // A 50% interval is narrower and nested inside the 95% one.
    const half = pairedBootstrap(perfect, uniform, labels, 2, { resamples: 4000, seed: 7, level: 0.5 });
    expect(half.accuracy.lower).toBeGreaterThan(d.accuracy.lower);
    expect(half.accuracy.upper).toBeLessThan(d.accuracy.upper);
  });

  it('is reproducible from its seed, and another seed resamples differently', () => {
    const noisy = Float64Array.from(uniform, (v, i) => v + 0.3 * Math.sin(i * 1.7));
    const norm = new Float64Array(noisy.length);
    for (let i = 0; i < n; i++) {
      const z = Math.log(Math.exp(noisy[2 * i]) + Math.exp(noisy[2 * i + 1]));
      norm[2 * i] = noisy[2 * i] - z;
      norm[2 * i + 1] = noisy[2 * i + 1] - z;
    }
    const a = pairedBootstrap(norm, uniform, labels, 2, { resamples: 300, seed: 1 });
    expect(pairedBootstrap(norm, uniform, labels, 2, { resamples: 300, seed: 1 })).toEqual(a);
    expect(pairedBootstrap(norm, uniform, labels, 2, { resamples: 300, seed: 2 }).nll.lower).not.toBe(a.nll.lower);
    expect(a.nll.lower).toBeLessThanOrEqual(a.nll.difference);
    expect(a.nll.upper).toBeGreaterThanOrEqual(a.nll.difference);
  });

  it('AUROC: a perfect separator against a coin-flip score; identical scores give exactly 0', () => {
    const known = Float64Array.from({ length: 300 }, (_, i) => 2 + i / 300);
    const unknown = Float64Array.from({ length: 100 }, (_, i) => i / 100);
    // Model b scores by the parity of the row: in and out have the same score distribution (AUROC ½).
    const parityKnown = Float64Array.from(known, (_, i) => i % 2);
    const parityUnknown = Float64Array.from(unknown, (_, i) => i % 2);
    expect(auroc(parityKnown, parityUnknown)).toBe(0.5);
    const d = pairedAurocBootstrap(known, unknown, parityKnown, parityUnknown, { resamples: 2000, seed: 3 });
    expect(d.difference).toBe(0.5);
    // auroc(a) is 1 on every resample, so the spread is b's: AUROC_b = ½ + ½(p_in − p_out) with
    // p the share of score-1 rows among 300 known / 100 unknown, sd = ½·sqrt(¼/300 + ¼/100) ≈ 0.029.
    expect(d.lower).toBeGreaterThan(0.5 - 1.96 * 0.029 - 0.015);
    expect(d.lower).toBeLessThan(0.5 - 1.96 * 0.029 + 0.015);
    expect(d.upper).toBeGreaterThan(0.5 + 1.96 * 0.029 - 0.015);
    expect(d.upper).toBeLessThan(0.5 + 1.96 * 0.029 + 0.015);
    expect(pairedAurocBootstrap(known, unknown, known, unknown, { resamples: 100 })).toEqual({ difference: 0, lower: 0, upper: 0 });
    expect(() => pairedAurocBootstrap(known, unknown, known.subarray(1), unknown)).toThrow(/scored different rows/);
  });

  it('rejects inputs it cannot pair, naming the problem', () => {
    expect(() => pairedBootstrap(perfect, uniform.subarray(2), labels, 2)).toThrow(/different row counts/);
    expect(() => pairedBootstrap(perfect, uniform, labels, 2, { level: 1 })).toThrow(/level must be in \(0, 1\)/);
    expect(() => pairedBootstrap(perfect, uniform, labels, 2, { resamples: 1 })).toThrow(/resamples must be an integer ≥ 2/);
    expect(() => pairedBootstrap(perfect, uniform, labels.subarray(1), 2)).toThrow(/labels for/);
  });
});
