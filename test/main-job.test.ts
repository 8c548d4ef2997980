// The main job end to end: the very experiment `npm start` runs (runDigitsExperiment with the
// default config, wasm backend) on seeds 0–4, asserting that IVON's BMA beats AdamW on NLL and ECE
// averaged over the seeds, with accuracy within one point. One seed alone is not a verdict: on a
// 359-row test split the per-seed winner flips with the last bit of a float (IVON wins NLL and ECE
// on 3 of these 5 seeds, and the 95% paired-bootstrap interval of the NLL gap is as wide as the
// gaps between seeds: it holds 0 on seeds 0 and 2, favours AdamW on seed 1 and IVON on 3 and 4);
// and the command line itself (--epochs 2) writing report.json whose numbers are the printed
// table's and intervals, plus two well-formed, labelled SVG figures.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { DEFAULT_CONFIG, runDigitsExperiment } from '../src/cli/experiment.js';

/** Checks that every tag is closed in order (a minimal XML well-formedness check) and returns the tag names seen. */
function wellFormedTags(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  const body = svg.replace(/<title>[^<]*<\/title>/g, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `</${name}> closes the wrong element`).toBe(name);
    else {
      seen.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  expect(body.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]/);
  return seen;
}

describe('main job (digits, AdamW vs IVON)', () => {
  it('IVON BMA beats AdamW on mean NLL and ECE over seeds 0–4, accuracy within one point (default config)', async () => {
    const rt = await createRuntime({ backend: 'wasm' });
    try {
      const mean = { adamw: { nll: 0, ece: 0, accuracy: 0 }, ivonBma: { nll: 0, ece: 0, accuracy: 0 } };
      const seeds = [0, 1, 2, 3, 4];
      for (const seed of seeds) {
        const r = await runDigitsExperiment(rt, { ...DEFAULT_CONFIG, seed });
        const { adamw, ivonBma, ivonMean } = r.table;
        expect(r.backend).toContain('model kernels: wasm');
        expect(r.data).toMatchObject({ train: 1438, test: 359 });
        // Both models are real classifiers on every seed.
        expect(adamw.accuracy).toBeGreaterThan(0.95);
        expect(ivonMean.accuracy).toBeGreaterThan(0.95);
        for (const o of [r.ood.adamw, r.ood.ivonBma]) {
          expect(o.maxProb).toBeGreaterThan(0.9);
          expect(o.entropy).toBeGreaterThan(0.9);
        }
        expect(r.reliability.ivonBma.reduce((n, b) => n + b.count, 0)).toBe(r.data.test);
        // The printed IVON − AdamW intervals: centred on the table's own difference, which they bracket.
        for (const metric of ['accuracy', 'nll', 'ece', 'brier'] as const) {
          const d = r.comparison[metric];
          expect(d.difference).toBeCloseTo(ivonBma[metric] - adamw[metric], 12);
          expect(d.lower).toBeLessThanOrEqual(d.difference);
          expect(d.upper).toBeGreaterThanOrEqual(d.difference);
        }
        for (const key of ['adamw', 'ivonBma'] as const) {
          for (const metric of ['nll', 'ece', 'accuracy'] as const) mean[key][metric] += r.table[key][metric] / seeds.length;
        }
      }
      expect(mean.ivonBma.nll).toBeLessThan(mean.adamw.nll);
      expect(mean.ivonBma.ece).toBeLessThan(mean.adamw.ece);
      expect(Math.abs(mean.ivonBma.accuracy - mean.adamw.accuracy)).toBeLessThanOrEqual(0.01);
    } finally {
      await rt.dispose();
    }
  });

  it('the CLI writes report.json (the printed table) and two labelled SVG figures', () => {
    const out = mkdtempSync(join(tmpdir(), 'ivon-main-'));
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--backend', 'wasm', '--epochs', '2', '--out', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.config.epochs).toBe(2);
    for (const [name, key] of [['AdamW', 'adamw'], ['IVON (mean)', 'ivonMean'], ['IVON (BMA 32)', 'ivonBma']] as const) {
      const t = report.table[key];
      const line = stdout.split('\n').find((l) => l.startsWith(`| ${name} `));
      expect(line, `table row ${name}`).toBeDefined();
      const cells = line!.split('|').map((c) => c.trim());
      expect(cells[2]).toBe(`${(100 * t.accuracy).toFixed(2)}%`);
      expect(Number(cells[3])).toBeCloseTo(t.nll, 4);
      expect(Number(cells[4])).toBeCloseTo(t.ece, 4);
      expect(Number(cells[5])).toBeCloseTo(t.brier, 4);
    }
    // The intervals line prints report.json's comparison (NLL: difference [lower, upper]).
    const nll = report.comparison.nll;
    const sign = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`;
    expect(stdout).toContain(`NLL ${sign(nll.difference)} [${sign(nll.lower)}, ${sign(nll.upper)}]`);
    const reliability = readFileSync(join(out, 'reliability.svg'), 'utf8');
    const entropy = readFileSync(join(out, 'entropy.svg'), 'utf8');
    for (const svg of [reliability, entropy]) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      const tags = wellFormedTags(svg);
      expect(tags[0]).toBe('svg');
      expect(tags.filter((t) => t === 'rect').length).toBeGreaterThan(10);
    }
    for (const label of ['Confidence (max predicted probability)', 'Accuracy', `AdamW — ECE ${report.table.adamw.ece.toFixed(3)}`, 'IVON BMA 32']) {
      expect(reliability).toContain(label);
    }
    for (const label of ['Predictive entropy (nats)', 'Fraction of examples', 'known digits', 'unknown digits']) expect(entropy).toContain(label);
  });
});
