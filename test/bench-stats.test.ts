// The benchmark harness's statistics and bytes-moved accounting (bench/stats.ts, bench/bytes.ts):
// the numbers the tables print are only as good as these. No timing is asserted here.
import { describe, expect, it } from 'vitest';
import { bytesMoved, bytesPerElement, gemmFlops, KERNEL_TRAFFIC } from '../bench/bytes.js';
import { SuiteContext } from '../bench/context.js';
import { defaultOptions } from '../bench/options.js';
import { clockResolutionMs, gbPerSecond, nsPerElement, quantile, repeated, summarize, timeInterleaved, timeRuns } from '../bench/stats.js';

describe('bench statistics', () => {
  it('median and p90 interpolate between ranks', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s.median_ms).toBe(3);
    expect(s.p90_ms).toBeCloseTo(4.6, 12); // rank 0.9·4 = 3.6 between 4 and 5
    expect(s.min_ms).toBe(1);
    expect(s.mean_ms).toBe(3);
    expect(s.reps).toBe(5);
    expect(summarize([1, 2, 3, 4]).median_ms).toBe(2.5);
    expect(summarize([7]).p90_ms).toBe(7);
  });

  it('quantile covers the ends and rejects bad input', () => {
    expect(quantile([1, 2, 3], 0)).toBe(1);
    expect(quantile([1, 2, 3], 1)).toBe(3);
    expect(() => quantile([], 0.5)).toThrow(/no samples/);
    expect(() => quantile([1], 1.5)).toThrow(/q must be/);
    expect(() => summarize([1, Number.NaN])).toThrow(/bad sample/);
  });

  it('timeRuns warms up untimed, then times until minReps and minTimeMs, capped by maxReps', async () => {
    let now = 0;
    const clock = () => now;
    let calls = 0;
    const run = () => {
      calls += 1;
      now += 10; // each run takes 10 ms of fake time
    };
    const samples = await timeRuns(run, { warmup: 2, minReps: 3, maxReps: 100, minTimeMs: 55 }, clock);
    expect(samples.length).toBe(6); // 6·10 ms ≥ 55 ms
    expect(samples.every((s) => s === 10)).toBe(true);
    expect(calls).toBe(8); // + 2 warm-up runs
    now = 0;
    expect((await timeRuns(run, { warmup: 0, minReps: 2, maxReps: 4, minTimeMs: 1e9 }, clock)).length).toBe(4);
    now = 0;
    expect((await timeRuns(run, { warmup: 0, minReps: 5, maxReps: 9, minTimeMs: 0 }, clock)).length).toBe(5);
    await expect(timeRuns(run, { warmup: 0, minReps: 3, maxReps: 2, minTimeMs: 0 })).rejects.toThrow(/minReps/);
  });

  it('timeInterleaved alternates the runs round by round, warm-up rounds first, each round starting one run later', async () => {
    let now = 0;
    const order: string[] = [];
    const run = (name: string, ms: number) => () => {
      order.push(name);
      now += ms;
    };
    const [a, b, c] = await timeInterleaved([run('a', 10), run('b', 30), run('c', 20)], { warmup: 1, minReps: 2, maxReps: 50, minTimeMs: 150 }, () => now);
    // The warm-up round, then rounds of 60 ms until ≥ 150 ms, rotated.
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(a).toEqual([10, 10, 10]);
    expect(b).toEqual([30, 30, 30]);
    expect(c).toEqual([20, 20, 20]);
    await expect(timeInterleaved([], { warmup: 0, minReps: 1, maxReps: 1, minTimeMs: 0 })).rejects.toThrow(/no runs/);
  });

  it('converts bytes and time to GB/s and ns/element', () => {
    expect(gbPerSecond(48e6, 2)).toBe(24); // 48 MB in 2 ms
    expect(nsPerElement(6, 2 ** 20)).toBeCloseTo(5.722, 3);
    expect(() => gbPerSecond(1, 0)).toThrow(/positive/);
  });
});

describe('bytes each kernel must move', () => {
  it('counts the tensors of the kernel contract, 4 B per tensor read or written', () => {
    expect(bytesPerElement('ivonSample')).toBe(16); // reads mean, hess; writes noise, theta
    expect(bytesPerElement('ivonUpdateFused')).toBe(32); // reads 5, writes 3
    expect(bytesPerElement('ivonStep')).toBe(48); // sample + fused update
    expect(bytesPerElement('adamwUpdate')).toBe(28); // reads 4, writes 3
    expect(bytesPerElement('sgdUpdate')).toBe(20);
    expect(bytesPerElement('ivonAccumulate')).toBe(24);
    expect(bytesPerElement('copy')).toBe(8);
    expect(bytesPerElement('triad')).toBe(12);
    expect(bytesPerElement('fillNormal')).toBe(4);
  });

  it('the whole step is exactly the sum of its kernels', () => {
    const sum = (k: keyof typeof KERNEL_TRAFFIC) => KERNEL_TRAFFIC[k].reads.length + KERNEL_TRAFFIC[k].writes.length;
    expect(sum('ivonStep')).toBe(sum('ivonSample') + sum('ivonUpdateFused'));
  });

  it('scales with the element count and rejects non-integers', () => {
    expect(bytesMoved('ivonStep', 16 * 2 ** 20)).toBe(48 * 16 * 2 ** 20);
    expect(bytesMoved('copy', 0)).toBe(0);
    expect(() => bytesMoved('copy', 1.5)).toThrow(/integer/);
    expect(gemmFlops(2, 3, 4)).toBe(48);
  });

  it("finds the step of a coarse clock (a browser's 100 µs) and repeats a run as one sample", async () => {
    let t = 0;
    let reads = 0;
    const coarse = () => (++reads % 7 === 0 ? (t += 0.1) : t); // advances by 0.1 ms every 7th read
    expect(clockResolutionMs(coarse)).toBeCloseTo(0.1, 12);
    expect(clockResolutionMs()).toBeLessThan(0.1); // Node's clock resolves far below a microsecond
    let runs = 0;
    await repeated(() => void runs++, 5)();
    expect(runs).toBe(5);
  });

  it('times work shorter than the clock can resolve several runs per sample, and says so; the CPU/wall figure comes from the host', async () => {
    const ctx = new SuiteContext({ ...defaultOptions(), quick: true }, () => {}, { loadTfjs: async () => 'none', cpuTimeMs: () => performance.now() });
    const tiny = await ctx.time(() => {});
    expect(tiny.runs_per_sample).toBeGreaterThan(1);
    expect(tiny.cpu_per_wall).toBeCloseTo(1, 1); // this fake CPU clock is the wall clock
    const slow = await ctx.time(() => {
      const end = performance.now() + 2;
      while (performance.now() < end);
    });
    expect(slow.runs_per_sample).toBeUndefined();
    expect(slow.median_ms).toBeGreaterThanOrEqual(2);
    expect(new SuiteContext(defaultOptions(), () => {}).host.cpuTimeMs).toBeUndefined();
  });
});
