// The benchmark harness's report logic (bench/ratios.ts, bench/results.ts, bench/cli.ts): which
// measurements are paired into ratios and checked against which targets, the JSON schema, and the
// command line. Built on hand-made measurements; no timing is asserted here.
import { describe, expect, it } from 'vitest';
import { parseArgs, parseSize, sizesFor, SUITES, type SuiteName } from '../bench/cli.js';
import { runBench } from '../bench/harness.js';
import { BARE_HOST } from '../bench/host.js';
import { defaultOptions } from '../bench/options.js';
import { computeRatios, TARGETS } from '../bench/ratios.js';
import { measurement, validateReport, type Measurement, type Report } from '../bench/results.js';

const M = 2 ** 20;

function row(over: Partial<Measurement> & Pick<Measurement, 'backend' | 'name'>, median = 1): Measurement {
  const m = measurement(
    { suite: 'optimizer', optimizer: null, params: M, workers: 0, ...over },
    { reps: 5, median_ms: median, p90_ms: median * 1.1, min_ms: median * 0.9, mean_ms: median },
  );
  return { ...m, ...over };
}

const find = (ratios: ReturnType<typeof computeRatios>, name: string, backend?: string) =>
  ratios.filter((r) => r.name === name && (backend === undefined || r.backend === backend));

describe('bench ratios', () => {
  it('IVON/AdamW per backend with the CPU and GPU targets', () => {
    const ratios = computeRatios([
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step' }, 6),
      row({ backend: 'wasm', optimizer: 'adamw', name: 'step' }, 2),
      row({ backend: 'webgpu', optimizer: 'ivon', name: 'step', suite: 'webgpu', gpu_median_ms: 1.2 }, 2),
      row({ backend: 'webgpu', optimizer: 'adamw', name: 'step', suite: 'webgpu', gpu_median_ms: 1 }, 1),
      row({ backend: 'js', optimizer: 'ivon', name: 'step', params: 4 * M }, 9), // no AdamW at this size: no ratio
    ]);
    const [wasm] = find(ratios, 'IVON step / AdamW step', 'wasm');
    expect(wasm.value).toBe(3);
    expect(wasm.target).toEqual({ op: '<=', value: TARGETS.ivonOverAdamwCpu });
    expect(wasm.meets).toBe(true);
    const [gpu] = find(ratios, 'IVON step / AdamW step', 'webgpu');
    expect(gpu.value).toBe(2);
    expect(gpu.meets).toBe(false);
    expect(find(ratios, 'IVON step / AdamW step (GPU time)')[0].value).toBeCloseTo(1.2, 12);
    expect(find(ratios, 'IVON step / AdamW step', 'js')).toHaveLength(0);
  });

  it('the wasm IVON step is divided by TensorFlow.js Adam of the same size, target ≤ 1', () => {
    const ratios = computeRatios([
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step' }, 6),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step', params: 16 * M }, 90),
      row({ backend: 'tfjs-wasm', optimizer: 'adam', name: 'step' }, 10),
      row({ backend: 'tfjs-wasm', optimizer: 'adam', name: 'step', params: 16 * M }, 80),
      row({ backend: 'js', optimizer: 'ivon', name: 'step' }, 50), // only the wasm step is compared
    ]);
    const pairs = find(ratios, 'IVON step / TF.js Adam step');
    expect(pairs.map((r) => [r.backend, r.params, r.value, r.meets])).toEqual([
      ['wasm', M, 0.6, true],
      ['wasm', 16 * M, 1.125, false],
    ]);
    expect(pairs[0].target).toEqual({ op: '<=', value: TARGETS.ivonOverTfjsAdam });
    expect(find(ratios, 'IVON step / AdamW step')).toHaveLength(0); // TF.js Adam is not our AdamW
  });

  it('wasm vs js speed-up pairs the same optimizer and size; only IVON has the 5× target', () => {
    const ratios = computeRatios([
      row({ backend: 'js', optimizer: 'ivon', name: 'step' }, 50),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step' }, 5),
      row({ backend: 'js', optimizer: 'adamw', name: 'step' }, 8),
      row({ backend: 'wasm', optimizer: 'adamw', name: 'step' }, 2),
      row({ backend: 'wasm', optimizer: 'adamw', name: 'step', params: 4 * M }, 2),
    ]);
    const [ivon] = find(ratios, 'ivon step: js time / wasm time');
    expect(ivon.value).toBe(10);
    expect(ivon.meets).toBe(true);
    const adamw = find(ratios, 'adamw step: js time / wasm time');
    expect(adamw).toHaveLength(1);
    expect(adamw[0].value).toBe(4);
    expect(adamw[0].target).toBeNull();
    expect(adamw[0].meets).toBeNull();
  });

  it('kernel GB/s is divided by the same backend and size probe: triad on CPU, copy on GPU', () => {
    const ratios = computeRatios([
      row({ backend: 'wasm', name: 'triad', suite: 'bandwidth', gbps: 30 }),
      row({ backend: 'wasm', name: 'triad', suite: 'bandwidth', gbps: 99, params: 4 * M }),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'ivonUpdateFused', suite: 'bandwidth', gbps: 21 }),
      row({ backend: 'wasm', name: 'fillNormal', suite: 'rng', gbps: 1 }), // compute-bound: never compared
      row({ backend: 'webgpu', name: 'copy', suite: 'webgpu', gbps: 1000, params: 64 * M }),
      row({ backend: 'webgpu', optimizer: 'ivon', name: 'step', suite: 'webgpu', gbps: 650, params: 64 * M }),
    ]);
    const [fused] = find(ratios, 'ivonUpdateFused GB/s / triad probe GB/s');
    expect(fused.value).toBeCloseTo(0.7, 12);
    expect(fused.target).toEqual({ op: '>=', value: 0.6 });
    expect(fused.meets).toBe(true);
    const [gpu] = find(ratios, 'ivon step GB/s / copy probe GB/s');
    expect(gpu.value).toBeCloseTo(0.65, 12);
    expect(gpu.target).toEqual({ op: '>=', value: 0.7 });
    expect(gpu.meets).toBe(false);
    expect(ratios.some((r) => r.name.startsWith('fillNormal GB/s'))).toBe(false);
  });

  it('RNG, ns/param (targets on wasm only), worker scaling, GEMM and epoch', () => {
    const ratios = computeRatios([
      row({ backend: 'wasm', name: 'fillNormal', suite: 'rng', normals_per_s: 320e6 }),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step', ns_per_param: 5.5 }),
      row({ backend: 'js', optimizer: 'ivon', name: 'step', ns_per_param: 50 }),
      row({ backend: 'wasm', optimizer: 'adamw', name: 'step', ns_per_param: 1.5 }),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'ivonSample', suite: 'workers', workers: 0 }, 10),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'ivonSample', suite: 'workers', workers: 1 }, 10),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'ivonSample', suite: 'workers', workers: 2 }, 5.5),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step', suite: 'workers', workers: 0, params: 65536 }, 1),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step', suite: 'workers', workers: 2, params: 65536 }, 1.25),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step', suite: 'workers', workers: 0 }, 10),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'step', suite: 'workers', workers: 2 }, 8),
      row({ backend: 'wasm', name: 'X·W', suite: 'gemm', gflops: 25 }),
      row({ backend: 'tfjs-wasm', name: 'X·W', suite: 'gemm', gflops: 5 }),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'epoch', suite: 'epoch' }, 1.3),
      row({ backend: 'wasm', optimizer: 'adamw', name: 'epoch', suite: 'epoch' }, 1),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'epoch', suite: 'posterior' }, 2),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'predictionVariance', suite: 'posterior' }, 9),
      row({ backend: 'wasm', optimizer: 'ivon', name: 'sensitivity', suite: 'posterior' }, 26),
    ]);
    const [rng] = find(ratios, 'fillNormal normals/s');
    expect(rng.value).toBe(320);
    expect(rng.meets).toBe(true);
    expect(find(ratios, 'ivon ns/param', 'wasm')[0].meets).toBe(true);
    expect(find(ratios, 'ivon ns/param', 'js')[0].target).toBeNull();
    expect(find(ratios, 'adamw ns/param', 'wasm')[0].meets).toBe(false);
    const [sample2] = find(ratios, 'ivonSample: 1 worker / 2 workers');
    expect(sample2.value).toBeCloseTo(10 / 5.5, 12);
    expect(sample2.meets).toBe(true);
    const [stepSmall, stepLarge] = find(ratios, 'step: main thread / 2 workers');
    expect(stepSmall.value).toBe(0.8);
    expect(stepSmall.meets).toBe(false); // slower with workers than without
    expect(stepLarge.value).toBe(1.25);
    expect(stepLarge.meets).toBe(true);
    // the fixed cost is reported for small models only, where it dominates
    const fixed = find(ratios, 'sharded step fixed cost (workers − main)');
    expect(fixed.map((r) => r.params)).toEqual([65536]);
    expect(fixed[0].value).toBeCloseTo(250, 9); // µs
    // workers-suite steps never enter the per-backend IVON/AdamW ratio: only the optimizer-suite pair does
    expect(find(ratios, 'IVON step / AdamW step').map((r) => r.workers)).toEqual([0]);
    expect(find(ratios, 'GEMM X·W GFLOP/s')[0].meets).toBe(true);
    expect(find(ratios, 'GEMM X·W: ours / tfjs-wasm')[0].value).toBe(5);
    const [epoch] = find(ratios, 'IVON epoch / AdamW epoch');
    expect(epoch.value).toBeCloseTo(1.3, 12);
    expect(epoch.meets).toBe(false);
    const [variance] = find(ratios, 'predictionVariance / IVON epoch');
    expect(variance.value).toBe(4.5);
    expect(variance.meets).toBe(true);
    const [sens] = find(ratios, 'sensitivity / IVON epoch');
    expect(sens.value).toBe(13);
    expect(sens.meets).toBe(false);
  });
});

describe('bench report schema', () => {
  const platform = { runtime: 'node', version: 'v20', cores: 2, cpu: 'x', os: 'Linux', arch: 'x64', memory_gb: 8, date: '2025-01-01', args: [], quick: true };

  it('measurement() derives GB/s and ns/param from bytes and elements', () => {
    const m = measurement(
      { suite: 's', backend: 'wasm', optimizer: 'ivon', name: 'step', params: 1_000_000, workers: 0 },
      { reps: 3, median_ms: 2, p90_ms: 3, min_ms: 1, mean_ms: 2 },
      { bytes: 48_000_000 },
    );
    expect(m.gbps).toBe(24);
    expect(m.ns_per_param).toBe(2);
    expect('note' in m).toBe(false);
    expect(measurement({ ...m }, { reps: 1, median_ms: 1, p90_ms: 1, min_ms: 1, mean_ms: 1 }, { perElement: false }).ns_per_param).toBeNull();
  });

  it('accepts a well-formed report, including its JSON round trip', () => {
    const results = [row({ backend: 'wasm', optimizer: 'ivon', name: 'step' }, 3), row({ backend: 'wasm', optimizer: 'adamw', name: 'step' }, 1)];
    const report: Report = { platform, results, ratios: computeRatios(results), skipped: [{ suite: 'workers', backend: 'wasm', reason: 'no pool' }] };
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('names the first violation', () => {
    const good = row({ backend: 'wasm', optimizer: 'ivon', name: 'step' });
    const bad = (over: Record<string, unknown>) => ({ platform, results: [{ ...good, ...over }], ratios: [], skipped: [] }) as unknown as Report;
    expect(() => validateReport(bad({ median_ms: Number.NaN }))).toThrow(/results\[0\]\.median_ms/);
    expect(() => validateReport(bad({ p90_ms: 0.5, median_ms: 1 }))).toThrow(/p90_ms/);
    expect(() => validateReport(bad({ suite: '' }))).toThrow(/results\[0\]\.suite/);
    expect(() => validateReport(bad({ gbps: -1 }))).toThrow(/gbps/);
    expect(() => validateReport({ ...bad({}), platform: { ...platform, cores: 0 } })).toThrow(/platform/);
    const ratio = { name: 'r', backend: 'wasm', params: 1, workers: 0, value: 1, unit: '', target: null, meets: true };
    expect(() => validateReport({ ...bad({}), ratios: [ratio] })).toThrow(/meets/);
    expect(() => validateReport({ ...bad({}), skipped: [{ suite: 'x', backend: null, reason: '' }] })).toThrow(/skipped\[0\]/);
  });
});

describe('bench command line', () => {
  it('parses every option', () => {
    const o = parseArgs(['--quick', '--out', 'r.json', '--suite', 'optimizer,rng', '--backend=js,wasm', '--sizes', '1M,64K,4096', '--workers', '2,1,2']);
    expect(o).toMatchObject({ quick: true, out: 'r.json', suites: ['optimizer', 'rng'], backends: ['js', 'wasm'], sizes: [M, 65536, 4096], workers: [1, 2] });
  });

  it('defaults: every suite and backend, 1M/4M/16M (quick: 1M), workers 1,2', () => {
    const o = parseArgs([]);
    expect(o.suites).toEqual([...SUITES]);
    expect(o.backends).toEqual(['js', 'wasm', 'webgpu']);
    expect(sizesFor(o)).toEqual([M, 4 * M, 16 * M]);
    expect(sizesFor(parseArgs(['--quick']))).toEqual([M]);
    expect(o.workers).toEqual([1, 2]);
  });

  it('rejects what it cannot run, saying what is accepted', () => {
    expect(() => parseArgs(['--suite', 'optimiser'])).toThrow(/unknown 'optimiser'; choose from optimizer/);
    expect(() => parseArgs(['--backend', 'cuda'])).toThrow(/choose from js, wasm, webgpu/);
    expect(() => parseArgs(['--out'])).toThrow(/--out needs a value/);
    expect(() => parseArgs(['--workers', '0'])).toThrow(/1\.\.64/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option '--fast'/);
    expect(() => parseSize('10')).toThrow(/multiples of 16/);
    expect(() => parseSize('1G')).toThrow(/not a size/);
    expect(parseSize('1.5M')).toBe(1.5 * M);
  });
});

describe('bench harness', () => {
  const platform = { runtime: 'test', version: '0', cores: 1, cpu: 'none', os: 'none', arch: 'none', memory_gb: 0, date: '', args: [], quick: true };

  it("runs a host's own suite in place of the portable one, and skips a suite no runner covers, with the reason", async () => {
    const ran: string[] = [];
    const host = { ...BARE_HOST, suites: { rng: async () => void ran.push('host rng') } };
    const options = { ...defaultOptions(), quick: true, suites: ['rng', 'node-only'] as SuiteName[] };
    const suites: string[] = [];
    const report = await runBench(options, platform, host, { print: () => {}, onSuite: (suite) => suites.push(suite) });
    expect(ran).toEqual(['host rng']);
    expect(suites).toEqual(['rng', 'node-only']);
    expect(report.skipped).toEqual([{ suite: 'node-only', backend: null, reason: 'the node-only suite does not run here (it needs Node: npm run bench -- --suite node-only)' }]);
    expect(report.results).toEqual([]);
  });
});
