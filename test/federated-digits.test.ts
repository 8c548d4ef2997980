// The federated digits example end to end (examples/federated-digits-run.ts): every method over an
// in-process broker for one seed and three rounds — each round scored, the federated methods
// learning round over round, and the SVG drawn from the runs.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEDERATED_CONFIG, METHODS, runExperiment, splitNonIid } from '../examples/federated-digits-run.js';
import { roundsFigure } from '../examples/federated-plot.js';
import { loadDigits, trainTestSplit } from '../src/cli/digits.js';

describe('federated digits example', () => {
  it('splits the training rows non-IID: every row once, each client mostly three classes', () => {
    const { train } = trainTestSplit(loadDigits(), 0.2, 0);
    const parts = splitNonIid(train, 6, 0.1, 0);
    expect(parts.reduce((a, p) => a + p.rows, 0)).toBe(train.rows);
    parts.forEach((p, k) => {
      const own = new Set([0, 1, 2].map((d) => (3 * k + d) % 10));
      let inOwn = 0;
      for (const label of p.labels) if (own.has(label)) inOwn++;
      expect(inOwn / p.rows).toBeGreaterThan(0.8);
    });
  });

  it('runs every method round by round over MQTT and scores each round', async () => {
    const config = { ...DEFAULT_FEDERATED_CONFIG, rounds: 3, localEpochs: 1, bmaSamples: 8 };
    const runs = await runExperiment(config, [0]);
    expect(runs.map((r) => r.method)).toEqual([...METHODS]);
    for (const run of runs) {
      expect(run.scores.map((s) => s.round)).toEqual([1, 2, 3]);
      for (const s of run.scores) {
        expect(s.accuracy).toBeGreaterThan(0.2);
        expect(Number.isFinite(s.nll) && s.nll > 0).toBe(true);
        expect(s.ece).toBeGreaterThanOrEqual(0);
      }
      if (run.method !== 'centralised-ivon') expect(run.scores[2].accuracy).toBeGreaterThan(run.scores[0].accuracy);
    }
    const svg = roundsFigure(runs, 'test');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(3 * METHODS.length);
  });
});
