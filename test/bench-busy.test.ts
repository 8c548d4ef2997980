// The bench on a busy device (issue 16): `--busy N` on the command line, the busy processes it
// starts and stops, the JSON field that marks rows measured beside them, and the ratios that pair
// the adaptive ('auto') pool with the main thread and check them against their targets. Built on
// hand-made measurements; no timing is asserted.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startBusyProcesses } from '../bench/busy.js';
import { parseArgs } from '../bench/cli.js';
import { computeRatios, TARGETS } from '../bench/ratios.js';
import { measurement, validateReport, type Measurement, type Report } from '../bench/results.js';

const M = 2 ** 20;

function row(name: string, workers: number, params: number, median: number, busy?: number): Measurement {
  const m = measurement(
    { suite: 'workers', backend: 'wasm', optimizer: 'ivon', name, params, workers },
    { reps: 5, median_ms: median, p90_ms: median * 1.1, min_ms: median * 0.9, mean_ms: median },
  );
  if (busy !== undefined) m.busy_processes = busy;
  return m;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('bench --busy', () => {
  it('parses --busy N (0..64) and refuses anything else, saying what it needs', () => {
    expect(parseArgs([]).busy).toBe(0);
    expect(parseArgs(['--busy', '1']).busy).toBe(1);
    expect(parseArgs(['--suite', 'workers', '--busy', '0']).busy).toBe(0);
    for (const bad of ['65', '1.5', 'two', '']) expect(() => parseArgs(['--busy', bad])).toThrow(/--busy: give the number of busy processes to start, an integer in 0\.\.64/);
    expect(() => parseArgs(['--busy'])).toThrow(/--busy needs a value/);
    expect(() => parseArgs(['--busy', '-1'])).toThrow(/--busy needs a value/); // '-1' reads as an option
  });

  it('starts N busy processes and stops them', async () => {
    const busy = startBusyProcesses(2);
    expect(busy.count).toBe(2);
    // The children are this process's only children running `for (;;) {}`: found by parent pid.
    const children = () =>
      execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes('for (;;) {}'))
        .map((line) => Number(line.trim().split(/\s+/)[0]));
    const started = children();
    expect(started).toHaveLength(2);
    expect(started.every(alive)).toBe(true);
    busy.stop();
    const deadline = Date.now() + 5000;
    while (started.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(started.filter(alive)).toEqual([]);
  });

  it('checks busy_processes in the JSON schema', () => {
    const platform = { runtime: 'node', version: 'v20', cores: 2, cpu: 'x', os: 'linux', arch: 'x64', memory_gb: 8, date: '', args: [], quick: false };
    const good: Report = { platform, results: [row('ivonSample-auto', 1, 4 * M, 10, 1)], ratios: [], skipped: [] };
    expect(validateReport(JSON.parse(JSON.stringify(good)))).toEqual(good);
    const bad = { ...good, results: [{ ...good.results[0], busy_processes: -1 }] };
    expect(() => validateReport(bad)).toThrow(/results\[0\]\.busy_processes must be an integer >= 0/);
  });
});

describe('bench ratios: the adaptive pool against the main thread', () => {
  const find = (ratios: ReturnType<typeof computeRatios>, name: string) => ratios.filter((r) => r.name === name);

  it('idle: sampling with 1 worker auto ≥ 1.9× from 4M, ≥ 0.95× below 4M and for the step', () => {
    const ratios = computeRatios([
      row('ivonSample', 0, 4 * M, 10),
      row('ivonSample', 1, 4 * M, 5.2),
      row('ivonSample-auto', 1, 4 * M, 5),
      row('ivonSample', 0, M, 4),
      row('ivonSample-auto', 1, M, 4),
      row('step', 0, 4 * M, 12),
      row('step-auto', 1, 4 * M, 12.5),
    ]);
    const [sample1M, sample4M] = find(ratios, 'ivonSample: main thread / 1 worker auto').sort((a, b) => (a.params ?? 0) - (b.params ?? 0));
    expect(sample4M).toMatchObject({ params: 4 * M, workers: 1, value: 2, target: { op: '>=', value: TARGETS.sampleOneWorkerIdle }, meets: true });
    expect(sample1M).toMatchObject({ value: 1, target: { op: '>=', value: TARGETS.autoNeverBelow }, meets: true });
    const [step] = find(ratios, 'step: main thread / 1 worker auto');
    expect(step.value).toBe(0.96);
    expect(step.meets).toBe(true);
    // The fixed rows keep their own ratio; the auto rows never pair with a fixed row.
    expect(find(ratios, 'ivonSample: main thread / 1 workers').map((r) => r.value)).toEqual([10 / 5.2]);
  });

  it('busy: every auto row against ≥ 0.95×, labelled with the busy processes', () => {
    const ratios = computeRatios([
      row('ivonSample', 0, 4 * M, 10, 1),
      row('ivonSample', 1, 4 * M, 10.5, 1),
      row('ivonSample-auto', 1, 4 * M, 10.6, 1),
      row('step', 0, 16 * M, 40, 1),
      row('step', 1, 16 * M, 55, 1),
      row('step-auto', 1, 16 * M, 40, 1),
    ]);
    const [sample] = find(ratios, 'ivonSample: main thread / 1 worker auto (1 busy)');
    expect(sample.value).toBeCloseTo(10 / 10.6, 12);
    expect(sample.target).toEqual({ op: '>=', value: 0.95 });
    expect(sample.meets).toBe(false);
    const [step] = find(ratios, 'step: main thread / 1 worker auto (1 busy)');
    expect(step).toMatchObject({ value: 1, meets: true, params: 16 * M });
    const [fixedStep] = find(ratios, 'step: main thread / 1 workers (1 busy)');
    expect(fixedStep.value).toBeCloseTo(40 / 55, 12);
    expect(fixedStep.meets).toBe(false);
  });
});
