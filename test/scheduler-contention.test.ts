// The pool's contention policy (src/scheduler/contention.ts) against simulated timings: thresholds
// derived from the measured wake-up + join cost and time per element, one-thread reference calls,
// suspension when sharded calls run slower than one thread (each kernel judged on its own calls),
// probes, resumption once the cores are free again, and the user's fixed thresholds. Timings are
// powers of two so every expected threshold and speed-up is exact.
import { describe, expect, it } from 'vitest';
import { ContentionPolicy, gemmShape, MAX_PROBE_GAP_MS, type ShardedCallTiming } from '../src/scheduler/contention.js';

/**
 * Three overlapping calls settle the wake-up cost here (the default waits for 8: tested below), and
 * every sharded call is judged (the default leaves a kernel's first 4 at each size unjudged: tested below).
 */
const DEFAULTS = { threads: 2, defaultMinElementsPerShard: 131_072, defaultMinFlopsPerShard: 4_000_000, minOverheadSamples: 3, unjudgedFirstCalls: 0 };
/** 2^-19 ms (≈ 1.9 ns) per element on one thread: a 4M-element call costs 8 ms there. */
const MS_PER_ELEMENT = 2 ** -19;
const N = 2 ** 22;
const ONE_THREAD_MS = 8;
/** A 256×256×64 product's flops (the bench MLP's hidden layer at batch 64). */
const GEMM_FLOPS = 2 * 64 * 256 * 256;
/** Wake-up + join cost of every simulated sharded call: 62.5 µs. */
const OVERHEAD_MS = 2 ** -4;

/** A sharded 4M-element ivonSample whose wall time gives `speedup` over one thread (8 ms). */
function sharded(speedup: number): ShardedCallTiming {
  const wallMs = ONE_THREAD_MS / speedup;
  const mainMs = wallMs - OVERHEAD_MS;
  return { kind: 'elements', kernel: 'ivonSample', work: N, mainWork: N / 2, mainMs, wallMs, workerMs: mainMs - 2 ** -6 };
}

/** A policy that has timed one inline 4M-element ivonSample at MS_PER_ELEMENT. */
function warmed(options: Partial<ConstructorParameters<typeof ContentionPolicy>[0]> = {}): ContentionPolicy {
  const policy = new ContentionPolicy({ ...DEFAULTS, ...options });
  policy.recordInline('elements', 'ivonSample', N, N * MS_PER_ELEMENT);
  return policy;
}

describe('ContentionPolicy: thresholds from measured costs', () => {
  it('uses the defaults until it has measured a wake-up cost and a time per element', () => {
    const policy = new ContentionPolicy(DEFAULTS);
    expect(policy.minWorkPerShard('elements', 'ivonSample', 0)).toBe(131_072);
    expect(policy.minWorkPerShard('gemm', '256×256', 0)).toBe(4_000_000);
    const r = policy.report(0);
    expect(r).toMatchObject({ state: 'sharding', wakeJoinUs: null, speedup: null, shardedCalls: 0, probes: 0, references: 0 });
    expect(r.minElementsPerShard).toEqual({ default: 131_072, byKernel: {}, source: 'default' });
    expect(r.reason).toMatch(/no sharded call measured yet/);
  });

  it('derives min elements per shard = gain × overhead / ((threads − 1) × time per element), 16-aligned', () => {
    const policy = warmed();
    for (let i = 0; i < 2; i++) policy.recordSharded(sharded(2), 'shard', i);
    expect(policy.minWorkPerShard('elements', 'ivonSample', 2)).toBe(131_072); // two samples: still the default
    policy.recordSharded(sharded(2), 'shard', 2);
    expect(policy.overheadMs(3)).toBe(OVERHEAD_MS);
    // 4 × 2^-4 ms / 2^-19 ms = 2^17 elements per shard.
    expect(policy.minWorkPerShard('elements', 'ivonSample', 3)).toBe(2 ** 17);
    // A kernel 4× as expensive per element needs shards 4× smaller; an unmeasured one keeps the default.
    policy.recordInline('elements', 'ivonUpdateFused', N, 4 * N * MS_PER_ELEMENT);
    expect(policy.minWorkPerShard('elements', 'ivonUpdateFused', 3)).toBe(2 ** 15);
    expect(policy.minWorkPerShard('elements', 'adamwUpdate', 3)).toBe(131_072);
    // Three threads: each extra thread saves time, so shards may be half as big.
    const three = warmed({ threads: 3 });
    for (let i = 0; i < 3; i++) three.recordSharded(sharded(2), 'shard', i);
    expect(three.minWorkPerShard('elements', 'ivonSample', 3)).toBe(2 ** 16);
    const r = policy.report(3);
    expect(r.wakeJoinUs).toBe(62.5);
    expect(r.minElementsPerShard).toEqual({ default: 131_072, byKernel: { ivonSample: 2 ** 17, ivonUpdateFused: 2 ** 15 }, source: 'measured' });
  });

  it('derives the GEMM threshold in flops the same way, per shape', () => {
    const policy = warmed();
    policy.recordInline('gemm', gemmShape(256, 256), 2 ** 25, 1); // 2^-25 ms per flop (≈ 33 GFLOP/s)
    policy.recordInline('gemm', gemmShape(10, 256), 2 ** 25, 4); // a thin product: 4× the time per flop
    for (let i = 0; i < 3; i++) policy.recordSharded(sharded(2), 'shard', i);
    expect(policy.minWorkPerShard('gemm', '256×256', 3)).toBe(2 ** 23); // 4 × 2^-4 / 2^-25
    expect(policy.minWorkPerShard('gemm', '10×256', 3)).toBe(2 ** 21);
    expect(policy.minWorkPerShard('gemm', '64×64', 3)).toBe(4_000_000); // not measured: the default
    // A GEMM shape never lends its cost to an element kernel of the same name, nor the reverse.
    expect(policy.minWorkPerShard('elements', '256×256', 3)).toBe(131_072);
    const r = policy.report(3);
    expect(r.minGemmFlopsPerShard).toEqual({ default: 4_000_000, byShape: { '10×256': 2 ** 21, '256×256': 2 ** 23 }, source: 'measured' });
    expect(r.minElementsPerShard.byKernel).toEqual({ ivonSample: 2 ** 17 });
  });

  it('by default keeps the defaults until 8 overlapping calls were measured', () => {
    const { minOverheadSamples: _three, ...defaults } = DEFAULTS;
    const policy = new ContentionPolicy(defaults);
    policy.recordInline('elements', 'ivonSample', N, N * MS_PER_ELEMENT);
    for (let i = 0; i < 7; i++) policy.recordSharded(sharded(2), 'shard', i);
    expect(policy.overheadMs(7)).toBeNull();
    expect(policy.minWorkPerShard('elements', 'ivonSample', 7)).toBe(131_072);
    policy.recordSharded(sharded(2), 'shard', 7);
    expect(policy.overheadMs(8)).toBe(OVERHEAD_MS);
    expect(policy.minWorkPerShard('elements', 'ivonSample', 8)).toBe(2 ** 17);
  });

  it('forgets wake-up costs older than 5 s, falling back to the defaults until re-measured', () => {
    const policy = warmed();
    for (let i = 0; i < 3; i++) policy.recordSharded(sharded(2), 'shard', 1000 + i);
    expect(policy.minWorkPerShard('elements', 'ivonSample', 6000)).toBe(2 ** 17);
    expect(policy.minWorkPerShard('elements', 'ivonSample', 6001)).toBe(2 ** 17); // the sample at 1001 is 5000 ms old
    expect(policy.minWorkPerShard('elements', 'ivonSample', 6002)).toBe(131_072);
  });

  it('never derives a threshold above 64× the default, nor below 16 elements', () => {
    const slowWake = warmed({ threads: 3 });
    // One thread would take 8 s (a slow kernel): a 4 s wake-up still leaves the call at 1.6×.
    slowWake.recordInline('elements', 'slow', N, 8000);
    const huge: ShardedCallTiming = { kind: 'elements', kernel: 'slow', work: N, mainWork: N / 4, mainMs: 1000, wallMs: 5000, workerMs: 1000 };
    for (let i = 0; i < 3; i++) slowWake.recordSharded(huge, 'shard', i);
    expect(slowWake.overheadMs(3)).toBe(4000);
    expect(slowWake.minWorkPerShard('elements', 'ivonSample', 3)).toBe(64 * 131_072);
    const freeWake = warmed();
    const free = { ...sharded(2), wallMs: 4, mainMs: 4, workerMs: 4 };
    for (let i = 0; i < 3; i++) freeWake.recordSharded(free, 'shard', i);
    expect(freeWake.minWorkPerShard('elements', 'ivonSample', 3)).toBe(16);
  });

  it('takes the wake-up cost only from calls whose shards overlapped', () => {
    const policy = warmed();
    for (let i = 0; i < 3; i++) policy.recordSharded({ ...sharded(0.5), mainMs: 4, workerMs: 4 }, 'shard', i); // 12 ms waiting for a worker that did not run
    expect(policy.overheadMs(3)).toBeNull();
    expect(policy.minWorkPerShard('elements', 'ivonSample', 3)).toBe(131_072);
    for (let i = 0; i < 3; i++) policy.recordSharded(sharded(1.05), 'shard', 3 + i); // exactly suspendBelow: counts
    expect(policy.overheadMs(6)).toBe(OVERHEAD_MS);
  });

  it('ignores inline calls too small to time', () => {
    const policy = new ContentionPolicy(DEFAULTS);
    policy.recordInline('elements', 'ivonSample', 16_383, 1);
    policy.recordInline('gemm', '256×256', 999_999, 1);
    expect(policy.report(0).minElementsPerShard.byKernel).toEqual({});
    expect(policy.report(0).minGemmFlopsPerShard).toEqual({ default: 4_000_000, byShape: {}, source: 'default' });
  });
});

describe('ContentionPolicy: suspension under contention and resumption', () => {
  it('runs the 2nd, 4th and 8th eligible call of each kernel and size, then one in 64, on the main thread as the one-thread reference', () => {
    const policy = new ContentionPolicy(DEFAULTS);
    const gates = Array.from({ length: 140 }, (_, i) => policy.gate('elements', 'ivonSample', N, i));
    expect(gates.map((g, i) => (g === 'main' ? i : -1)).filter((i) => i >= 0)).toEqual([1, 3, 7, 71, 135]);
    expect(policy.gate('elements', 'adamwUpdate', N, 140)).toBe('shard');
    expect(policy.gate('elements', 'adamwUpdate', N, 141)).toBe('main'); // its own second call, whatever the global count
    expect(policy.report(142).references).toBe(6);
    const often = new ContentionPolicy({ ...DEFAULTS, referenceEvery: 24 });
    const gates24 = Array.from({ length: 60 }, (_, i) => often.gate('elements', 'ivonSample', N, i));
    expect(gates24.map((g, i) => (g === 'main' ? i : -1)).filter((i) => i >= 0)).toEqual([1, 3, 7, 31, 55]);
  });

  it('keeps sharding while sharded calls beat one thread; suspends on the 4th call at 0.5× after a run at 2×', () => {
    const policy = warmed();
    for (let i = 0; i < 10; i++) policy.recordSharded(sharded(2), 'shard', i);
    expect(policy.speedup()).toBe(2);
    expect(policy.report(10)).toMatchObject({ state: 'sharding', speedup: 2, shardedCalls: 10 });
    // EWMA of wall time (weight 0.1) from 4 ms towards 16 ms: 8/7.252 = 1.10× after 3 calls, 8/8.127 = 0.98× after 4.
    for (let i = 0; i < 3; i++) policy.recordSharded(sharded(0.5), 'shard', 10 + i);
    expect(policy.isSuspended).toBe(false);
    expect(policy.speedup()).toBeCloseTo(8 / (16 - 12 * 0.9 ** 3), 12);
    policy.recordSharded(sharded(0.5), 'shard', 13);
    expect(policy.isSuspended).toBe(true);
    const r = policy.report(13);
    expect(r.state).toBe('suspended');
    expect(r.reason).toMatch(/^sharded calls ran at 0\.98× of one thread over the last 19 calls: the cores are busy \(another process\) or these calls are too short for the wake-up and join to pay/);
    expect(r.reason).toMatch(/re-probing one call in 20 \(at most every 200 ms: 200 ms, doubled by each probe that fails\)/);
  });

  it("by default leaves a kernel's first 4 sharded calls at each size unjudged (fresh memory, code not yet optimised)", () => {
    const policy = warmed({ unjudgedFirstCalls: undefined });
    // The measured start of a 4M-element step: three slow calls, then the steady 1.2×.
    for (const [i, speedup] of [0.7, 0.89, 0.88, 0.9, 1.2, 1.2, 1.2, 1.2, 1.2].entries()) policy.recordSharded(sharded(speedup), 'shard', i);
    expect(policy.isSuspended).toBe(false);
    expect(policy.speedup()).toBeCloseTo(1.2, 12);
    expect(policy.report(9).shardedCalls).toBe(9);
    // Another size starts unjudged again; the size already judged is judged from its first call on.
    policy.recordInline('elements', 'ivonSample', 2 * N, 2 * N * MS_PER_ELEMENT);
    policy.recordSharded({ ...sharded(0.5), work: 2 * N, wallMs: 32 }, 'shard', 10);
    expect(policy.speedup()).toBeCloseTo(1.2, 12);
    policy.recordSharded(sharded(0.6), 'shard', 11);
    expect(policy.speedup()).toBeLessThan(1.2);
    expect(() => new ContentionPolicy({ ...DEFAULTS, unjudgedFirstCalls: -1 })).toThrow(/unjudgedFirstCalls must be an integer ≥ 0, got -1/);
    expect(() => new ContentionPolicy({ ...DEFAULTS, unjudgedFirstCalls: 1.5 })).toThrow(/unjudgedFirstCalls must be an integer ≥ 0/);
  });

  it('does not suspend before 5 sharded calls, whatever they measured', () => {
    const policy = warmed();
    for (let i = 0; i < 4; i++) policy.recordSharded(sharded(0.5), 'shard', i);
    expect(policy.isSuspended).toBe(false);
    policy.recordSharded(sharded(0.5), 'shard', 4);
    expect(policy.isSuspended).toBe(true);
    expect(policy.report(4).reason).toMatch(/^sharded calls ran at 0\.5×/);
  });

  it('while suspended runs calls on the main thread, probes one in 20 at least 200 ms apart, and resumes when a probe reaches 1.2×', () => {
    const policy = warmed();
    for (let i = 0; i < 5; i++) policy.recordSharded(sharded(0.5), 'shard', 1000);
    expect(policy.isSuspended).toBe(true);
    // 20 eligible calls within 200 ms of the suspension: no probe yet.
    const early = Array.from({ length: 25 }, () => policy.gate('elements', 'ivonSample', N, 1100));
    expect(early.every((g) => g === 'main')).toBe(true);
    // The first eligible call from 200 ms on is the probe; the next 19 are not.
    expect(policy.gate('elements', 'ivonSample', N, 1200)).toBe('probe');
    const after = Array.from({ length: 19 }, () => policy.gate('elements', 'ivonSample', N, 1500));
    expect(after.every((g) => g === 'main')).toBe(true);
    // A probe at 1.1× (below 1.2×) keeps sharding suspended and says so.
    policy.recordSharded(sharded(1.1), 'probe', 1500);
    expect(policy.isSuspended).toBe(true);
    expect(policy.report(1500).reason).toMatch(/^the last probe ran at 1\.1× of one thread/);
    expect(policy.report(1500).probes).toBe(1);
    expect(policy.report(1500).reason).toMatch(/at most every 400 ms/);
    // The 20th eligible call since the last probe, 300 ms later: the failed probe doubled the gap to 400 ms.
    expect(policy.gate('elements', 'ivonSample', N, 1500)).toBe('main');
    expect(policy.gate('elements', 'ivonSample', N, 1600)).toBe('probe');
    // The other process has stopped: the probe runs at 1.9× and sharding resumes at once.
    policy.recordSharded(sharded(1.9), 'probe', 1510);
    expect(policy.isSuspended).toBe(false);
    expect(policy.speedup()).toBeCloseTo(1.9, 12);
    expect(policy.gate('elements', 'ivonSample', N, 1511)).toBe('shard');
    const r = policy.report(1511);
    expect(r).toMatchObject({ state: 'sharding', probes: 2, shardedCalls: 7 });
    expect(r.reason).toMatch(/^sharding: recent sharded calls ran at 1\.9× of one thread/);
  });

  it('doubles the gap between probes while they fail, up to MAX_PROBE_GAP_MS, and starts again from 200 ms after sharding resumes', () => {
    const policy = warmed();
    for (let i = 0; i < 5; i++) policy.recordSharded(sharded(0.5), 'shard', 0);
    expect(policy.isSuspended).toBe(true);
    /** The time of the next probe from `from` on, 20 eligible calls at each millisecond tried. */
    const nextProbe = (from: number): number => {
      for (let now = from; ; now += 100) for (let i = 0; i < 20; i++) if (policy.gate('elements', 'ivonSample', N, now) === 'probe') return now;
    };
    const gaps: number[] = [];
    let last = 0;
    for (let k = 0; k < 7; k++) {
      const at = nextProbe(last);
      gaps.push(at - last);
      policy.recordSharded(sharded(1.0), 'probe', at); // fails: below 1.2×
      last = at;
    }
    expect(gaps).toEqual([200, 400, 800, 1600, MAX_PROBE_GAP_MS, MAX_PROBE_GAP_MS, MAX_PROBE_GAP_MS]);
    // A probe that passes resumes sharding; the next suspension probes 200 ms after it again.
    policy.recordSharded(sharded(1.9), 'probe', nextProbe(last));
    expect(policy.isSuspended).toBe(false);
    const resumedAt = last + MAX_PROBE_GAP_MS;
    for (let i = 0; i < 30; i++) policy.recordSharded(sharded(0.5), 'shard', resumedAt);
    expect(policy.isSuspended).toBe(true);
    expect(nextProbe(resumedAt) - resumedAt).toBe(200);
  });

  it('judges a call against inline calls measured recently, and no call before the first of them', () => {
    // The main thread's shard took 8 ms for half the work (the worker slowed it down): extrapolated,
    // one thread would take 16 ms and the 10 ms call would look 1.6× faster. The inline reference
    // says one thread takes 8 ms, so the call ran at 0.8×. Without a reference: not judged at all.
    const call: ShardedCallTiming = { kind: 'elements', kernel: 'ivonSample', work: N, mainWork: N / 2, mainMs: 8, wallMs: 10, workerMs: 9 };
    const unreferenced = new ContentionPolicy(DEFAULTS);
    const referenced = warmed();
    for (let i = 0; i < 5; i++) {
      unreferenced.recordSharded(call, 'shard', i);
      referenced.recordSharded(call, 'shard', i);
    }
    expect(unreferenced.speedup()).toBeNull();
    expect(unreferenced.overheadMs(5)).toBeNull();
    expect(unreferenced.isSuspended).toBe(false);
    expect(unreferenced.report(5).shardedCalls).toBe(5);
    expect(referenced.speedup()).toBe(0.8);
    expect(referenced.isSuspended).toBe(true);
  });
});

describe('ContentionPolicy: each kernel judged on its own', () => {
  /** A sharded 4M-element call of `kernel` at `speedup` over one thread (8 ms), like sharded(). */
  const call = (kernel: string, speedup: number): ShardedCallTiming => ({ ...sharded(speedup), kernel });
  /** A policy that has timed one inline 4M-element call of each kernel at MS_PER_ELEMENT. */
  const warmedFor = (...kernels: string[]) => {
    const policy = new ContentionPolicy(DEFAULTS);
    for (const k of kernels) policy.recordInline('elements', k, N, N * MS_PER_ELEMENT);
    return policy;
  };

  it('suspends a kernel whose sharded calls do not pay and keeps sharding one whose calls do', () => {
    // The 2-core VM, idle: a memory-bound step gains about 1.0× from a second core, sampling 1.9×.
    const policy = warmedFor('ivonSample', 'ivonUpdateFusedAndSample');
    for (let i = 0; i < 10; i++) {
      policy.recordSharded(call('ivonSample', 1.9), 'shard', i);
      if (i < 4) policy.recordSharded(call('ivonUpdateFusedAndSample', 1.0), 'shard', i);
    }
    expect(policy.suspended('elements', 'ivonUpdateFusedAndSample')).toBe(false); // 4 calls: not yet judged
    policy.recordSharded(call('ivonUpdateFusedAndSample', 1.0), 'shard', 10);
    expect(policy.suspended('elements', 'ivonUpdateFusedAndSample')).toBe(true);
    expect(policy.suspended('elements', 'ivonSample')).toBe(false);
    expect(policy.suspended('elements', 'adamwUpdate')).toBe(false); // never judged: sharding
    expect(policy.isSuspended).toBe(false);
    expect(policy.speedup('elements', 'ivonSample')).toBeCloseTo(1.9, 12);
    expect(policy.speedup('elements', 'ivonUpdateFusedAndSample')).toBeCloseTo(1.0, 12);
    // All kernels together, time-weighted: 16 ms of one-thread work in 8/1.9 + 8 ms of wall time.
    expect(policy.speedup()).toBeCloseTo(16 / (8 / 1.9 + 8), 12);
    // The suspended kernel's calls run on the main thread; the other's are still sharded.
    expect(policy.gate('elements', 'ivonUpdateFusedAndSample', N, 20)).toBe('main');
    expect(policy.gate('elements', 'ivonSample', N, 20)).toBe('shard');
    const r = policy.report(20);
    expect(r.state).toBe('partly suspended');
    expect(r.kernels.ivonSample).toMatchObject({ state: 'sharding', speedup: 1.9, shardedCalls: 10, probes: 0 });
    expect(r.kernels.ivonUpdateFusedAndSample).toMatchObject({ state: 'suspended', speedup: 1, shardedCalls: 5, probes: 0 });
    expect(r.kernels.ivonUpdateFusedAndSample.reason).toMatch(/^sharded calls ran at 1× of one thread over the last 19 calls/);
    expect(r.reason).toMatch(/^sharding: recent sharded calls ran at [0-9.]+× of one thread .*\. Suspended: ivonUpdateFusedAndSample; the last: sharded calls ran at 1×/);
  });

  it('probes each suspended kernel on its own schedule, and resumes only the one whose probe passes', () => {
    const policy = warmedFor('ivonSample', 'ivonUpdateFusedAndSample');
    for (let i = 0; i < 5; i++) {
      policy.recordSharded(call('ivonSample', 0.5), 'shard', 1000);
      policy.recordSharded(call('ivonUpdateFusedAndSample', 0.5), 'shard', 1000);
    }
    expect(policy.isSuspended).toBe(true); // a busy device: every kernel judged stops on its own calls
    expect(policy.gate('elements', 'adamwUpdate', N, 1000)).toBe('shard'); // gated, never judged: no say in the state
    expect(policy.report(1000).state).toBe('suspended');
    expect(policy.report(1000).reason).toMatch(/^every kernel is suspended \(ivonSample, ivonUpdateFusedAndSample\); the last: sharded calls ran at 0\.5×/);
    // Twenty eligible step calls make its probe due; sampling's own count has not moved.
    const stepGates = Array.from({ length: 20 }, () => policy.gate('elements', 'ivonUpdateFusedAndSample', N, 1200));
    expect(stepGates.filter((g) => g === 'probe')).toHaveLength(1);
    expect(policy.gate('elements', 'ivonSample', N, 1200)).toBe('main');
    policy.recordSharded(call('ivonUpdateFusedAndSample', 1.3), 'probe', 1200);
    expect(policy.suspended('elements', 'ivonUpdateFusedAndSample')).toBe(false);
    expect(policy.suspended('elements', 'ivonSample')).toBe(true);
    expect(policy.report(1200)).toMatchObject({ state: 'partly suspended', probes: 1 });
  });

  it('judges a GEMM shape apart from the element kernels', () => {
    const policy = warmedFor('ivonSample');
    policy.recordInline('gemm', gemmShape(256, 256), 2 ** 25, 1);
    const gemm: ShardedCallTiming = { kind: 'gemm', kernel: gemmShape(256, 256), work: 2 ** 25, mainWork: 2 ** 24, mainMs: 1, wallMs: 2, workerMs: 1 };
    for (let i = 0; i < 5; i++) policy.recordSharded(gemm, 'shard', i); // 0.5×: cold wake-ups on every product
    for (let i = 0; i < 5; i++) policy.recordSharded(call('ivonSample', 1.9), 'shard', i);
    expect(policy.suspended('gemm', '256×256')).toBe(true);
    expect(policy.suspended('elements', '256×256')).toBe(false); // an element kernel of that name is another kernel
    expect(policy.suspended('elements', 'ivonSample')).toBe(false);
    expect(Object.keys(policy.report(5).kernels)).toEqual(['ivonSample', 'nnGemm 256×256']);
  });
});

describe('ContentionPolicy: the one-thread reference', () => {
  it('is the median of the recent inline calls: a reference another process preempted does not make sharded calls look faster', () => {
    // Two clean references at 8 ms, then one preempted for 112 ms (120 ms in all). An average would
    // put one thread near 40 ms and judge a 10 ms sharded call 4× faster; it ran at 0.8×.
    const policy = warmed();
    policy.recordInline('elements', 'ivonSample', N, ONE_THREAD_MS);
    policy.recordInline('elements', 'ivonSample', N, 120);
    for (let i = 0; i < 5; i++) policy.recordSharded(sharded(0.8), 'shard', i);
    expect(policy.speedup()).toBe(0.8);
    expect(policy.isSuspended).toBe(true);
  });

  it('forgets references older than the last five, so a device that became slower is judged by its new speed', () => {
    const policy = warmed();
    for (let i = 0; i < 5; i++) policy.recordInline('elements', 'ivonSample', N, 2 * ONE_THREAD_MS);
    // One thread now takes 16 ms: a 10 ms sharded call is 1.6× faster, and sharding goes on.
    for (let i = 0; i < 5; i++) policy.recordSharded(sharded(0.8), 'shard', i);
    expect(policy.speedup()).toBe(1.6);
    expect(policy.isSuspended).toBe(false);
  });

  it('is kept per power-of-two size: a call in cache does not judge one streaming from memory', () => {
    // 64K elements in cache at half the time per element of the 4M calls. Judged by it, a 4M call
    // at 1.6× would look 0.8× and stop sharding; it has no reference of its size, so it is not judged.
    const policy = new ContentionPolicy(DEFAULTS);
    policy.recordInline('elements', 'ivonSample', 2 ** 16, 2 ** 16 * (MS_PER_ELEMENT / 2));
    for (let i = 0; i < 5; i++) policy.recordSharded(sharded(1.6), 'shard', i);
    expect(policy.speedup()).toBeNull();
    // The gate takes each size's second call as its reference.
    const gates = [2 ** 16, 2 ** 16, N, N].map((work, i) => policy.gate('elements', 'ivonSample', work, i));
    expect(gates).toEqual(['shard', 'main', 'shard', 'main']);
    policy.recordInline('elements', 'ivonSample', N, ONE_THREAD_MS);
    for (let i = 0; i < 5; i++) policy.recordSharded(sharded(1.6), 'shard', i);
    expect(policy.speedup()).toBeCloseTo(1.6, 12);
  });
});

describe('ContentionPolicy: fixed thresholds and validation', () => {
  it("keeps the user's thresholds and never suspends the calls they govern", () => {
    const policy = new ContentionPolicy({ ...DEFAULTS, fixedMinElementsPerShard: 64, fixedMinFlopsPerShard: 1 });
    policy.recordInline('elements', 'ivonSample', N, N * MS_PER_ELEMENT);
    for (let i = 0; i < 10; i++) policy.recordSharded(sharded(0.5), 'shard', i);
    expect(policy.isSuspended).toBe(false);
    expect(policy.gate('elements', 'ivonSample', N, 10)).toBe('shard');
    expect(policy.gate('gemm', '256×256', GEMM_FLOPS, 10)).toBe('shard');
    expect(policy.minWorkPerShard('elements', 'ivonSample', 10)).toBe(64);
    expect(policy.minWorkPerShard('gemm', '256×256', 10)).toBe(1);
    const r = policy.report(10);
    expect(r).toMatchObject({ state: 'sharding', shardedCalls: 0, minElementsPerShard: { default: 64, byKernel: {}, source: 'option' }, minGemmFlopsPerShard: { default: 1, byShape: {}, source: 'option' } });
    expect(r.reason).toMatch(/^fixed thresholds/);
  });

  it('a fixed element threshold leaves the GEMM adaptive (and the reverse)', () => {
    const policy = new ContentionPolicy({ ...DEFAULTS, fixedMinElementsPerShard: 64 });
    expect(policy.isFixed('elements')).toBe(true);
    expect(policy.isFixed('gemm')).toBe(false);
    expect(policy.gate('gemm', '256×256', GEMM_FLOPS, 0)).toBe('shard');
    expect(policy.gate('gemm', '256×256', GEMM_FLOPS, 1)).toBe('main'); // the second GEMM is the one-thread reference
  });

  it('refuses a thread count that is not a positive integer, and options that are not positive numbers', () => {
    expect(() => new ContentionPolicy({ ...DEFAULTS, threads: 0 })).toThrow(/threads must be an integer ≥ 1, got 0/);
    expect(() => new ContentionPolicy({ ...DEFAULTS, threads: 1.5 })).toThrow(RangeError);
    expect(() => new ContentionPolicy({ ...DEFAULTS, probeEvery: 0 })).toThrow(/probeEvery must be a finite number > 0, got 0/);
    expect(() => new ContentionPolicy({ ...DEFAULTS, defaultMinElementsPerShard: Number.NaN })).toThrow(/defaultMinElementsPerShard/);
    expect(() => new ContentionPolicy({ ...DEFAULTS, speedupWeight: 2 })).toThrow(/speedupWeight must be in \(0, 1\]/);
  });
});
