// The main job end to end. (1) The command line (`--reduced`, wasm) writes report.json,
// report.html and every SVG, and each printed verdict line is the one its interval in report.json
// gives under an independent statement of the rule (a side wins only when the whole 95% interval
// is on its side of 0). (2) Every part runs on every backend this machine has: wasm (above, the
// reduced configuration), js and webgpu (Dawn over SwiftShader; no adapter is a failure, never a
// skip) in a smaller one still; and two runs from one seed give the same numbers. (3) The default IVON setting stays stable when trained 2× and 4× longer than the
// job's epochs, while the old defaults (β₂ 0.999, ess·δ 1.4) diverge at 200 epochs and fit warns
// before they do. (4) The helpers: the verdict rule, the perturbed copies of the digits.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseGpu } from '../gpu/gpu-provider.js';
import { createRuntime, IVON } from '../src/index.js';
import { classificationReport } from '../src/metrics/index.js';
import { fit } from '../src/nn/fit.js';
import { predictBma } from '../src/nn/predict.js';
import { DEFAULT_CONFIG, IVON_DEFAULT, REDUCED_CONFIG } from '../src/cli/config.js';
import { flipLabels, loadDigits, subset, translated, trainTestSplit, withPixelNoise } from '../src/cli/digits.js';
import { runMainJob } from '../src/cli/job.js';
import { parseArgs } from '../src/cli/main.js';
import { formatReport, type MainJobReport } from '../src/cli/report.js';
import { jobContext, makeNet, newIvon } from '../src/cli/train.js';
import { verdictOf } from '../src/cli/verdict.js';

const PARTS = ['baseline', 'no-validation', 'mislabelled', 'merging', 'shift'];

afterAll(() => releaseGpu());

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

/** The rule, stated again here (not imported), from the interval alone. */
function expectedVerdict(c: { a: string; b: string; lowerIsBetter: boolean; interval: { lower: number; upper: number } }): string {
  const { lower, upper } = c.interval;
  const aSide = c.lowerIsBetter ? upper < 0 : lower > 0;
  const bSide = c.lowerIsBetter ? lower > 0 : upper < 0;
  if (aSide) return `${c.a} better`;
  if (bSide) return `${c.b} better`;
  return 'no resolved difference';
}

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`;

/** Every claim has exactly one printed verdict line, with its interval and the rule's verdict. */
function expectVerdictLinesAgree(stdout: string, report: MainJobReport): void {
  const lines = stdout.split('\n').filter((l) => l.startsWith('verdict | '));
  const claims = report.parts.flatMap((p) => p.claims);
  expect(lines.length).toBe(claims.length);
  for (const c of claims) {
    const line = lines.find((l) => l.split(' | ')[1] === c.id);
    expect(line, `verdict line for ${c.id}`).toBeDefined();
    const [, , , interval, verdict] = line!.split(' | ');
    expect(interval).toBe(`${signed(c.interval.difference)} [${signed(c.interval.lower)}, ${signed(c.interval.upper)}]`);
    expect(c.interval.lower).toBeLessThanOrEqual(c.interval.upper);
    expect(verdict).toBe(expectedVerdict(c));
    expect(c.verdict).toBe(verdict);
  }
}

/** Each part is there with tables, claims and real numbers, on the backend asked for. */
function expectEveryPart(report: MainJobReport, backend: string): void {
  expect(report.backend).toContain(`model kernels: ${backend}`);
  expect(report.parts.map((p) => p.id)).toEqual(PARTS);
  for (const p of report.parts) {
    expect(p.tables.length, p.id).toBeGreaterThan(0);
    expect(p.claims.length, p.id).toBeGreaterThan(0);
    for (const c of p.claims) for (const v of [c.interval.difference, c.interval.lower, c.interval.upper]) expect(Number.isFinite(v), `${c.id}`).toBe(true);
    for (const t of p.tables) for (const row of t.rows) expect(row.join(' ')).not.toMatch(/NaN|Infinity/);
  }
}

describe('main job', () => {
  it('the CLI (--reduced, wasm) writes report.json, report.html and the SVGs; every verdict line agrees with its interval', () => {
    const out = mkdtempSync(join(tmpdir(), 'ivon-main-'));
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--backend', 'wasm', '--reduced', '--out', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as MainJobReport;
    expectEveryPart(report, 'wasm');
    expectVerdictLinesAgree(stdout, report);
    // The printed tables are report.json's cells.
    for (const p of report.parts) for (const t of p.tables) for (const row of t.rows) expect(stdout).toContain(`| ${row[0]}`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src="http/);
    const figures = report.parts.flatMap((p) => p.figures);
    expect(figures.map((f) => f.file).sort()).toEqual(['entropy.svg', 'loo-vs-test.svg', 'reliability.svg', 'sensitive-digits.svg']);
    for (const f of figures) {
      const svg = readFileSync(join(out, f.file), 'utf8');
      expect(f.caption.length).toBeGreaterThan(0);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(wellFormedTags(svg)[0]).toBe('svg');
      expect(html).toContain(svg);
    }
    for (const c of report.parts.flatMap((p) => p.claims)) expect(html).toContain(c.verdict);
  }, 600_000);

  it('every part runs on js and webgpu too (smaller still: 600 rows, MLP 64-32-32-10, 2 epochs); webgpu without an adapter fails', async () => {
    // SwiftShader runs the reduced configuration in about 6 minutes on this machine; this one in under 1.
    const config = { ...REDUCED_CONFIG, epochs: 2, hidden: [32, 32], bmaSamples: 2, bootstrapResamples: 100 };
    const firstRows = () => subset(loadDigits(), Array.from({ length: 600 }, (_, i) => i));
    for (const backend of ['js', 'webgpu'] as const) {
      const rt = await createRuntime({ backend });
      try {
        const report = await runMainJob(rt, config, undefined, firstRows);
        expectEveryPart(report, backend);
        expectVerdictLinesAgree(formatReport(report), report);
      } finally {
        await rt.dispose();
      }
    }
  }, 600_000);

  it(`the default IVON setting is stable trained 2× and 4× longer (${2 * DEFAULT_CONFIG.epochs}, ${4 * DEFAULT_CONFIG.epochs} epochs); the old defaults diverge at 200 and fit warns first`, async () => {
    const rt = await createRuntime({ backend: 'wasm' });
    try {
      const ctx = jobContext(rt, DEFAULT_CONFIG);
      const { train, test } = trainTestSplit(loadDigits(), DEFAULT_CONFIG.testFraction, 0);
      const run = async (setting: typeof IVON_DEFAULT, epochs: number) => {
        const net = makeNet(ctx, 64, 10);
        const opt = newIvon(ctx, net, setting, train.rows, 0);
        const warnings: { epoch: number; message: string }[] = [];
        let epoch = 0;
        await fit(net, opt, { x: train.x, targets: train.labels, rows: train.rows }, {
          loss: 'cross-entropy', epochs, batchSize: 32, lr: setting.lr, seed: 0,
          warmupSteps: Math.round(0.05 * epochs * Math.ceil(train.rows / 32)),
          onEpochEnd: (info) => void (epoch = info.epoch + 1),
          onWarning: (message) => warnings.push({ epoch, message }),
        });
        const p = await predictBma(net, opt, test.x, test.rows, { samples: 16 });
        opt.dispose();
        return { report: classificationReport(p.logProbs, test.labels, 10), warnings };
      };
      for (const factor of [2, 4]) {
        const { report, warnings } = await run(IVON_DEFAULT, factor * DEFAULT_CONFIG.epochs);
        expect(warnings, `${factor}×`).toEqual([]);
        expect(report.accuracy, `${factor}×`).toBeGreaterThan(0.95);
        expect(report.nll, `${factor}×`).toBeLessThan(0.2);
      }
      // The old defaults: β₂ 0.999, h₀ 1.5, ess 10·N, δ 1e-4 (ess·δ ≈ 1.4).
      const old = await run({ lr: 0.2, hessInit: 1.5, beta2: 0.999, essFactor: 10, essTimesDelta: 10 * train.rows * 1e-4 }, 200);
      expect(old.report.accuracy).toBeLessThan(0.95);
      expect(old.warnings.length).toBe(1);
      expect(old.warnings[0].message).toMatch(/raise beta2 toward 0\.9999, raise weightDecay/);
      expect(old.warnings[0].epoch).toBeLessThan(150);
    } finally {
      await rt.dispose();
    }
  }, 600_000);

  it('every number is reproducible from the seed: two runs give the same tables and intervals', async () => {
    const rt = await createRuntime({ backend: 'wasm' });
    try {
      const config = { ...REDUCED_CONFIG, parts: ['baseline' as const, 'shift' as const] };
      const [a, b] = [await runMainJob(rt, config), await runMainJob(rt, config)];
      const numbers = (r: MainJobReport) => JSON.stringify(r.parts.map((p) => ({ tables: p.tables, claims: p.claims, data: p.data })));
      expect(numbers(a)).toBe(numbers(b));
      const other = await runMainJob(rt, { ...config, seeds: [1] });
      expect(numbers(other)).not.toBe(numbers(a));
    } finally {
      await rt.dispose();
    }
  }, 600_000);

  it('the command line: defaults, seeds, parts (baseline always runs), epochs, and what it refuses', () => {
    const defaults = parseArgs([]);
    expect(defaults).not.toBe('help');
    if (defaults === 'help') return;
    expect(defaults.config).toEqual(DEFAULT_CONFIG);
    expect(defaults.backend).toBe('auto');
    const picked = parseArgs(['--seeds', '2-4', '--parts', 'merging,shift', '--epochs', '7', '--backend', 'js', '--out', 'x']);
    if (picked === 'help') throw new Error('unexpected help');
    expect(picked.config.seeds).toEqual([2, 3, 4]);
    expect(picked.config.parts).toEqual(['baseline', 'merging', 'shift']);
    expect(picked.config.epochs).toBe(7);
    expect(picked.out).toBe('x');
    const reduced = parseArgs(['--reduced']);
    if (reduced === 'help') throw new Error('unexpected help');
    expect(reduced.config).toEqual(REDUCED_CONFIG);
    expect(parseArgs(['--help'])).toBe('help');
    expect(() => parseArgs(['--backend', 'cuda'])).toThrow(/--backend must be js, wasm, webgpu or auto/);
    expect(() => parseArgs(['--epochs', '0'])).toThrow(/--epochs must be an integer ≥ 1/);
    expect(() => parseArgs(['--parts', 'everything'])).toThrow(/unknown part\(s\) everything/);
    expect(() => parseArgs(['--bogus', '1'])).toThrow(/bogus/);
  });

  it('the verdict rule needs the whole interval on one side of 0', () => {
    expect(verdictOf('IVON', 'AdamW', true, { difference: -0.1, lower: -0.2, upper: -0.01 })).toBe('IVON better');
    expect(verdictOf('IVON', 'AdamW', true, { difference: 0.1, lower: 0.01, upper: 0.2 })).toBe('AdamW better');
    expect(verdictOf('IVON', 'AdamW', true, { difference: -0.1, lower: -0.2, upper: 0 })).toBe('no resolved difference');
    expect(verdictOf('IVON', 'AdamW', false, { difference: 0.1, lower: 0.01, upper: 0.2 })).toBe('IVON better');
    expect(verdictOf('IVON', 'AdamW', false, { difference: -0.1, lower: -0.2, upper: -0.01 })).toBe('AdamW better');
    expect(verdictOf('merged', 'averaging', false, { difference: 0, lower: 0, upper: 0 })).toBe('no resolved difference');
    expect(() => verdictOf('a', 'b', true, { difference: 0, lower: 1, upper: -1 })).toThrow(/lower ≤ upper/);
    expect(() => verdictOf('a', 'b', true, { difference: NaN, lower: 0, upper: 1 })).toThrow(/finite/);
  });

  it('the perturbed copies: seeded clipped pixel noise, a one-pixel shift, an exact share of flipped labels', () => {
    const digits = loadDigits();
    const noisy = withPixelNoise(digits, 0.25, 3);
    expect(noisy.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(withPixelNoise(digits, 0.25, 3).x).toEqual(noisy.x);
    let moved = 0;
    for (let i = 0; i < digits.x.length; i++) moved += (noisy.x[i] - digits.x[i]) ** 2;
    expect(Math.sqrt(moved / digits.x.length)).toBeGreaterThan(0.1);
    const shifted = translated(digits, 1, 0);
    for (let r = 0; r < 5; r++) {
      for (let i = 0; i < 8; i++) {
        expect(shifted.x[r * 64 + i * 8]).toBe(0);
        for (let j = 1; j < 8; j++) expect(shifted.x[r * 64 + i * 8 + j]).toBe(digits.x[r * 64 + i * 8 + j - 1]);
      }
    }
    const { set, flipped } = flipLabels(digits, 0.05, 10, 0);
    expect(flipped.reduce((n, v) => n + v, 0)).toBe(Math.round(0.05 * digits.rows));
    for (let i = 0; i < digits.rows; i++) expect(set.labels[i] !== digits.labels[i]).toBe(flipped[i] === 1);
    expect(existsSync('data/README.md')).toBe(true);
  });
});
