// When the worker pool should split a call, decided from what its sharded calls cost on this
// device right now rather than from constants measured on another machine. Two questions:
//
// 1. How big must a shard be? A sharded call pays a fixed wake-up + join cost (signal the workers,
//    wait for the slowest); splitting wins only when the time saved — (threads − 1)/threads of the
//    call — is several times that cost. The cost is measured per sharded call (wall − the longer
//    of the main thread's and the slowest worker's own shard time), the time per element (per
//    flop for GEMM) per kernel from the main thread's shards and from inline calls.
// 2. Does sharding this kernel pay now? When another process keeps the cores busy, a worker may
//    not run while the main thread waits for it, and a sharded call is slower than one thread
//    (issue 16 measured 0.65–0.98×). Each sharded call's effective speed-up is its one-thread cost
//    over its wall time; an EWMA over recent calls below suspendBelow stops sharding. While
//    suspended, every probeEvery-th call that would have been sharded (and at least probeAfterMs
//    after the last probe, twice that after each probe that failed, up to MAX_PROBE_GAP_MS) runs
//    sharded once, and a probe at resumeAt or better resumes sharding.
//    All of this is per kernel (per GEMM shape), because what a second core buys differs by
//    kernel on an idle device too: on the 2-core VM a memory-bound 4M-element step gains
//    1.05–1.4× while sampling, bound by arithmetic, gains 1.9–2× (the fixed-sharding rows of
//    `npm run bench -- --suite workers --backend wasm --sizes 4M,16M --workers 1`). With one EWMA
//    for the whole pool, a run of steps near 1.05× suspended the sampling as well (the same
//    suite's auto sampling at 16M ran at 1.0× of one thread, fixed sharding at 1.97×, in two runs
//    before this change). A busy device shows in every kernel's own calls, so each kernel stops
//    within minSamples of its own.
//
//    The one-thread cost is work × the kernel's time per unit measured on calls of about the same
//    size (the same power of two: a call in cache costs less per element than one streaming from
//    memory) that ran on the main thread alone: while sharding, the 2nd, 4th and 8th eligible call
//    of each kernel and size (the first pays for touching fresh memory) and then one eligible call
//    in referenceEvery run inline as that reference; calls before the first are not judged. The reference is
//    the median of the last REFERENCE_WINDOW such calls (the lower middle one while there are
//    fewer): a reference call that another process preempted looks far slower, and in an average
//    it made sharded calls look faster than they were (over 2× with one worker, which cannot be,
//    on the busy 2-core VM); the fastest one instead is a lucky call, and on the noisy VM it judged
//    memory-bound steps that ran faster sharded too slow and stopped sharding them.
//    Extrapolating the main thread's own shard (main shard time × work / main shard work) is no
//    substitute: when the cores are oversubscribed the worker slows the main thread's shard down
//    too, and on this project's 2-core machine that estimate showed a clear speed-up for calls
//    that ran no faster than one thread.
//
// The wake-up + join cost behind the thresholds is taken from calls whose shards overlapped (the
// call's own speed-up ≥ suspendBelow): a worker that was not scheduled at all is contention, which
// the suspension handles, not a cost of waking it.
//
// Pure: it is fed timings and a clock (milliseconds) and answers decisions, so every decision is
// unit-tested against simulated timings (test/scheduler-contention.test.ts). PoolRunner feeds it.

import { quantile } from '../metrics/quantile.js';

/** Element-wise kernel calls (work = elements) or the model's GEMM (work = flops, 2·m·n·k). */
export type ShardKind = 'elements' | 'gemm';

export interface ContentionPolicyOptions {
  /** Threads of a fully sharded call (workers + the main thread). */
  threads: number;
  /** Shard sizes used until the first measurements (scheduler/defaults.ts, pool.ts). */
  defaultMinElementsPerShard: number;
  defaultMinFlopsPerShard: number;
  /** The user's explicit thresholds: fixed, never derived, and those calls are never suspended. */
  fixedMinElementsPerShard?: number;
  fixedMinFlopsPerShard?: number;
  /** Time saved by sharding must be at least this many times the wake-up + join cost (default 4). */
  gainOverOverhead?: number;
  /** EWMA weight of one sharded call in the speed-up (default 0.1: about the last 20 calls). */
  speedupWeight?: number;
  /** Sharded calls seen before the speed-up may suspend sharding (default 5). */
  minSamples?: number;
  /**
   * A kernel's first sharded calls at each power-of-two size that are not judged at all (default
   * 4; may be 0): they pay for touching fresh memory (the undo area grows to the call) and, in a
   * worker that has not run the kernel yet, for code V8 has not optimised yet. On the 2-core VM
   * (auto pool, 4M-element IVON steps, each judged call traced in a scratch run recorded in issue
   * 16's notes) the first judged calls ran at 0.70×, 0.89× and 0.88× of one thread (the worker's
   * shard 24 and 19 ms), the following at 1.16–1.24× (14 ms); judged, those three suspended a
   * kernel that pays. What it changes is in the workers suite above: the auto step row then runs
   * at about the fixed row's speed-up instead of being suspended.
   */
  unjudgedFirstCalls?: number;
  /**
   * Overlapping sharded calls measured before their wake-up + join cost replaces the defaults
   * (default 8: a run's first sharded calls pay cold wake-ups and first touches — three of them
   * once put it at several times the steady cost on the bench MLP and kept its GEMMs unsharded).
   */
  minOverheadSamples?: number;
  /** Sharding stops when the speed-up EWMA falls below this (default 1.05: a gain under 5% is not worth the risk). */
  suspendBelow?: number;
  /** A probe this fast or faster resumes sharding (default 1.2). */
  resumeAt?: number;
  /**
   * While sharding, one eligible call in this many runs on the main thread as the one-thread
   * reference (default 64: at 2× per sharded call that costs 1.5% of the gain, keeping sampling
   * with 1 worker above issue 16's 1.9× where the sharded calls reach 1.96×).
   */
  referenceEvery?: number;
  /** While suspended, one call in this many eligible ones is a probe (default 20)… */
  probeEvery?: number;
  /**
   * …and probes are at least this far apart (milliseconds, default 200); twice as far after each
   * probe that fails, up to MAX_PROBE_GAP_MS (a probe on a busy device can wait out a whole time
   * slice of a worker that claimed its shard and was then descheduled).
   */
  probeAfterMs?: number;
}

/** One sharded call, as the main thread measured it. */
export interface ShardedCallTiming {
  kind: ShardKind;
  /**
   * Elements: the kernel's name. GEMM: its shape as gemmShape(n, k) names it, since a flop's cost
   * depends on the product's shape. Time per unit of work is learned per kernel (per shape).
   */
  kernel: string;
  /** Elements (or flops) of the whole call and of the main thread's shard. */
  work: number;
  mainWork: number;
  /** The main thread's own shard, milliseconds. */
  mainMs: number;
  /** From signalling the workers to the last worker's done, milliseconds. */
  wallMs: number;
  /** The slowest worker's own shard time as it reported it, milliseconds. */
  workerMs: number;
  /**
   * Whether the main thread ran a worker's shard itself because the worker had not started it
   * (pool-runner: P.claimShard). Such a call's wall time is real, so it counts for the speed-up,
   * but it says nothing about the wake-up + join cost.
   */
  takenOver?: boolean;
}

/** What the pool does with a call its thresholds would shard. */
export type ShardGate = 'shard' | 'probe' | 'main';

/** What the pool does with one kernel's (one GEMM shape's) calls. */
export interface KernelSharding {
  /** 'sharding': split per the thresholds; 'suspended': on the main thread, probing. */
  state: 'sharding' | 'suspended';
  /** EWMA of its recent sharded calls' speed-up over one thread (null before any was judged). */
  speedup: number | null;
  shardedCalls: number;
  probes: number;
  /** One sentence: what the pool does with this kernel now and why. */
  reason: string;
}

export interface ContentionReport {
  /**
   * 'sharding': no kernel is suspended; 'suspended': every kernel judged so far is (on the main
   * thread, probing); 'partly suspended': some are (`kernels` says which).
   */
  state: 'sharding' | 'suspended' | 'partly suspended';
  /** Median wake-up + join cost of recent sharded calls, µs (null before any was measured). */
  wakeJoinUs: number | null;
  /** Recent sharded calls' speed-up over one thread, all kernels together, time-weighted (null before any). */
  speedup: number | null;
  /** Per kernel judged so far (GEMMs as 'nnGemm n×k'): its state, speed-up and reason. */
  kernels: Record<string, KernelSharding>;
  /** Eligible calls run on the main thread as the one-thread reference (while sharding). */
  references: number;
  /** Current minimum elements per shard, per kernel measured so far, and for kernels not yet measured. */
  minElementsPerShard: { default: number; byKernel: Record<string, number>; source: 'measured' | 'default' | 'option' };
  /** Current minimum GEMM flops per shard, per shape (n×k) measured so far, and for shapes not yet measured. */
  minGemmFlopsPerShard: { default: number; byShape: Record<string, number>; source: 'measured' | 'default' | 'option' };
  shardedCalls: number;
  /** Sharded calls in which the main thread ran a worker's shard itself, the worker not having started it. */
  takenOver: number;
  probes: number;
  /** One sentence: what the pool does now and why. */
  reason: string;
}

const OVERHEAD_WINDOW = 15;
/**
 * Wake-up + join samples older than this are forgotten: a cost measured while the cores were busy
 * must not keep thresholds high (and calls unsharded, so never re-measured) after they free up.
 * With too few recent samples the thresholds are the defaults again.
 */
const OVERHEAD_MAX_AGE_MS = 5_000;
/** Inline calls shorter than this much work are not timed: the clock's granularity would dominate. */
export const MIN_TIMED_WORK: Record<ShardKind, number> = { elements: 16_384, gemm: 1_000_000 };
const PER_UNIT_WEIGHT = 0.25;
/** A derived threshold never exceeds this many times the default (a stale estimate cannot lock sharding out). */
const MAX_OVER_DEFAULT = 64;
/** The longest gap between probes while they keep failing (ms). */
export const MAX_PROBE_GAP_MS = 3200;
/** Reference calls kept per kernel and size; their median is the one-thread cost. */
const REFERENCE_WINDOW = 5;

export class ContentionPolicy {
  private readonly threads: number;
  private readonly gain: number;
  private readonly weight: number;
  private readonly minSamples: number;
  private readonly unjudgedFirstCalls: number;
  private readonly minOverheadSamples: number;
  private readonly suspendBelow: number;
  private readonly resumeAt: number;
  private readonly probeEvery: number;
  private readonly probeAfterMs: number;
  private readonly referenceEvery: number;

  /** Per kernel (unitKey): whether sharding it pays, from its own sharded calls. */
  private readonly verdicts = new Map<string, KernelVerdict>();
  /** The kernel most recently suspended (the pool's reason quotes it). */
  private lastSuspended: string | undefined;
  private readonly overheads: { ms: number; at: number }[] = [];
  /** overheadMs() is asked on every kernel call: its answer, valid until a sample is added or one expires. */
  private overheadCache: { value: number | null; validUntil: number } | undefined;
  /** Per kernel (unitKey): time per unit on the main thread alone (inline calls) and in the main thread's shards. */
  private readonly inlineMsPerUnit = new Map<string, number>();
  private readonly shardMsPerUnit = new Map<string, number>();
  /** Per kernel and size (referenceKey): the time per unit of its last REFERENCE_WINDOW inline calls. */
  private readonly referenceMsPerUnit = new Map<string, number[]>();
  private eligibleSinceReference = 0;
  /** Sharded calls seen per kernel and size (the first unjudgedFirstCalls are not judged). */
  private readonly shardedByReferenceKey = new Map<string, number>();
  /** Eligible calls seen per kernel and size while sharding (its 2nd, 4th and 8th are references). */
  private readonly eligibleByReferenceKey = new Map<string, number>();
  private references = 0;
  private shardedCalls = 0;
  private takenOverCalls = 0;
  private probes = 0;

  constructor(private readonly o: ContentionPolicyOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError(`ContentionPolicy: threads must be an integer ≥ 1, got ${o.threads}`);
    for (const key of ['defaultMinElementsPerShard', 'defaultMinFlopsPerShard', 'fixedMinElementsPerShard', 'fixedMinFlopsPerShard', 'gainOverOverhead', 'speedupWeight', 'minSamples', 'minOverheadSamples', 'suspendBelow', 'resumeAt', 'probeEvery', 'probeAfterMs', 'referenceEvery'] as const) {
      const value = o[key];
      if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
        throw new RangeError(`ContentionPolicy: ${key} must be a finite number > 0, got ${String(value)}`);
      }
    }
    const unjudged = o.unjudgedFirstCalls;
    if (unjudged !== undefined && !(Number.isInteger(unjudged) && unjudged >= 0)) throw new RangeError(`ContentionPolicy: unjudgedFirstCalls must be an integer ≥ 0, got ${String(unjudged)}`);
    if (o.speedupWeight !== undefined && o.speedupWeight > 1) throw new RangeError(`ContentionPolicy: speedupWeight must be in (0, 1], got ${o.speedupWeight}`);
    this.threads = o.threads;
    this.gain = o.gainOverOverhead ?? 4;
    this.weight = o.speedupWeight ?? 0.1;
    this.minSamples = o.minSamples ?? 5;
    this.unjudgedFirstCalls = o.unjudgedFirstCalls ?? 4;
    this.minOverheadSamples = o.minOverheadSamples ?? 8;
    this.suspendBelow = o.suspendBelow ?? 1.05;
    this.resumeAt = o.resumeAt ?? 1.2;
    this.probeEvery = o.probeEvery ?? 20;
    this.probeAfterMs = o.probeAfterMs ?? 200;
    this.referenceEvery = o.referenceEvery ?? 64;
  }

  /** The verdict on `key` (unitKey), sharding until its calls say otherwise. */
  private verdict(key: string): KernelVerdict {
    let v = this.verdicts.get(key);
    if (!v) this.verdicts.set(key, (v = new KernelVerdict(this.probeAfterMs)));
    return v;
  }

  /** True when the user fixed this kind's threshold: never derived, never suspended. */
  isFixed(kind: ShardKind): boolean {
    return (kind === 'elements' ? this.o.fixedMinElementsPerShard : this.o.fixedMinFlopsPerShard) !== undefined;
  }

  /** Whether `kernel`'s calls (a GEMM's: its shape's) run on the main thread now, sharding suspended. */
  suspended(kind: ShardKind, kernel: string): boolean {
    return this.verdicts.get(unitKey(kind, kernel))?.suspended ?? false;
  }

  /** True when every kernel judged so far is suspended (the report's 'suspended'). */
  get isSuspended(): boolean {
    return this.state() === 'suspended';
  }

  /** Over the kernels judged so far (a kernel only gated, never judged, has no say). */
  private state(): ContentionReport['state'] {
    const judged = [...this.verdicts.values()].filter((v) => v.samples > 0);
    const suspended = judged.filter((v) => v.suspended).length;
    return suspended === 0 ? 'sharding' : suspended === judged.length ? 'suspended' : 'partly suspended';
  }

  /** The least work a shard of `kernel` must carry at time `now`. */
  minWorkPerShard(kind: ShardKind, kernel: string, now: number): number {
    const fixed = kind === 'elements' ? this.o.fixedMinElementsPerShard : this.o.fixedMinFlopsPerShard;
    if (fixed !== undefined) return fixed;
    const fallback = kind === 'elements' ? this.o.defaultMinElementsPerShard : this.o.defaultMinFlopsPerShard;
    const perUnit = this.perUnitMs(unitKey(kind, kernel));
    const overhead = this.overheadMs(now);
    if (perUnit === undefined || perUnit <= 0 || overhead === null || this.threads < 2) return fallback;
    // Shards of m units each save (threads − 1)·m·perUnit over one thread; ask for gain × overhead.
    const units = (this.gain * overhead) / ((this.threads - 1) * perUnit);
    const floor = kind === 'elements' ? 16 : 1;
    const aligned = kind === 'elements' ? Math.ceil(units / 16) * 16 : Math.ceil(units);
    return Math.min(fallback * MAX_OVER_DEFAULT, Math.max(floor, aligned));
  }

  /**
   * Asked for each call the thresholds would shard, just before it runs (it counts the call).
   * Sharding: 'shard', or 'main' for a one-thread reference call (the 2nd, 4th and 8th of a kernel
   * and size — three early, so that one slow reference is outvoted — then one in referenceEvery).
   * Suspended: 'probe' when a probe is due, else 'main'.
   */
  gate(kind: ShardKind, kernel: string, work: number, now: number): ShardGate {
    if (this.isFixed(kind)) return 'shard';
    const v = this.verdict(unitKey(kind, kernel));
    if (!v.suspended) {
      const key = referenceKey(kind, kernel, work);
      const seen = (this.eligibleByReferenceKey.get(key) ?? 0) + 1;
      this.eligibleByReferenceKey.set(key, seen);
      this.eligibleSinceReference += 1;
      const early = seen === 2 || seen === 4 || seen === 8;
      if (!early && this.eligibleSinceReference < this.referenceEvery) return 'shard';
      this.eligibleSinceReference = 0;
      this.references += 1;
      return 'main';
    }
    v.eligibleSinceProbe += 1;
    if (v.eligibleSinceProbe < this.probeEvery || now - v.lastProbeAt < v.probeGapMs) return 'main';
    v.eligibleSinceProbe = 0;
    v.lastProbeAt = now;
    return 'probe';
  }

  /** A call that ran on the main thread alone: its time per unit of work. */
  recordInline(kind: ShardKind, kernel: string, work: number, ms: number): void {
    if (this.isFixed(kind) || work < MIN_TIMED_WORK[kind] || !(ms > 0)) return;
    learn(this.inlineMsPerUnit, unitKey(kind, kernel), ms / work);
    const key = referenceKey(kind, kernel, work);
    const recent = this.referenceMsPerUnit.get(key) ?? [];
    recent.push(ms / work);
    if (recent.length > REFERENCE_WINDOW) recent.shift();
    this.referenceMsPerUnit.set(key, recent);
  }

  /** A sharded call (gate said 'shard' or 'probe'). */
  recordSharded(t: ShardedCallTiming, gate: ShardGate, now: number): void {
    if (this.isFixed(t.kind) || !(t.wallMs > 0) || !(t.mainMs > 0) || t.mainWork <= 0) return;
    this.shardedCalls += 1;
    if (t.takenOver) this.takenOverCalls += 1;
    const key = unitKey(t.kind, t.kernel);
    learn(this.shardMsPerUnit, key, t.mainMs / t.mainWork);
    const v = this.verdict(key);
    v.shardedCalls += 1;
    if (gate === 'probe') {
      this.probes += 1;
      v.probes += 1;
    }
    const sizeKey = referenceKey(t.kind, t.kernel, t.work);
    const seen = (this.shardedByReferenceKey.get(sizeKey) ?? 0) + 1;
    this.shardedByReferenceKey.set(sizeKey, seen);
    if (gate === 'shard' && seen <= this.unjudgedFirstCalls) return;
    // Before the first reference call of this kernel and size there is nothing to judge this call by.
    const references = this.referenceMsPerUnit.get(sizeKey);
    if (references === undefined) return;
    const reference = lowerMedian(references);
    const oneThreadMs = t.work * reference;
    if (gate === 'probe') {
      const speedup = oneThreadMs / t.wallMs;
      if (speedup >= this.resumeAt) {
        v.suspended = false;
        v.oneThreadEwma = oneThreadMs;
        v.wallEwma = t.wallMs;
        v.samples = 1;
        this.eligibleSinceReference = 0;
        v.probeGapMs = this.probeAfterMs;
      } else {
        v.suspendedSpeedup = speedup;
        v.suspendedBy = 'probe';
        v.probeGapMs = Math.min(2 * v.probeGapMs, Math.max(this.probeAfterMs, MAX_PROBE_GAP_MS));
      }
    }
    if (oneThreadMs / t.wallMs >= this.suspendBelow && !t.takenOver) {
      this.overheads.push({ ms: Math.max(0, t.wallMs - Math.max(t.mainMs, t.workerMs)), at: now });
      if (this.overheads.length > OVERHEAD_WINDOW) this.overheads.shift();
      this.overheadCache = undefined;
    }
    if (gate === 'probe') return;
    // Time-weighted: the EWMA of one-thread cost over the EWMA of wall time, so long calls count more.
    const w = v.samples === 0 ? 1 : this.weight;
    v.oneThreadEwma += w * (oneThreadMs - v.oneThreadEwma);
    v.wallEwma += w * (t.wallMs - v.wallEwma);
    v.samples += 1;
    if (v.samples >= this.minSamples && v.speedup()! < this.suspendBelow) {
      v.suspended = true;
      v.suspendedSpeedup = v.speedup()!;
      v.suspendedBy = 'calls';
      v.eligibleSinceProbe = 0;
      v.lastProbeAt = now;
      v.probeGapMs = this.probeAfterMs;
      this.lastSuspended = key;
    }
  }

  /**
   * Speed-up of recent sharded calls over one thread (null before any): of `kernel` when given,
   * else of all kernels together, time-weighted (their one-thread EWMAs over their wall EWMAs).
   */
  speedup(kind: ShardKind = 'elements', kernel?: string): number | null {
    const verdicts = kernel === undefined ? [...this.verdicts.values()] : [this.verdicts.get(unitKey(kind, kernel))];
    let oneThread = 0;
    let wall = 0;
    for (const v of verdicts) {
      if (!v || v.samples === 0) continue;
      oneThread += v.oneThreadEwma;
      wall += v.wallEwma;
    }
    return wall > 0 ? oneThread / wall : null;
  }

  /** Median wake-up + join cost of the sharded calls of the last OVERHEAD_MAX_AGE_MS, ms (null with fewer than minOverheadSamples). */
  overheadMs(now: number): number | null {
    const cached = this.overheadCache;
    if (cached !== undefined && now <= cached.validUntil) return cached.value;
    const recent = this.overheads.filter((o) => now - o.at <= OVERHEAD_MAX_AGE_MS);
    // The answer holds until the oldest recent sample expires (or, with none, until a sample is added).
    const validUntil = recent.length > 0 ? recent[0].at + OVERHEAD_MAX_AGE_MS : Infinity;
    const sorted = recent.map((o) => o.ms).sort((a, b) => a - b);
    const value = sorted.length < this.minOverheadSamples ? null : quantile(sorted, 0.5);
    this.overheadCache = { value, validUntil };
    return value;
  }

  report(now: number): ContentionReport {
    const overhead = this.overheadMs(now);
    const byKernel: Record<string, number> = {};
    const byShape: Record<string, number> = {};
    for (const key of [...new Set([...this.inlineMsPerUnit.keys(), ...this.shardMsPerUnit.keys()])].sort()) {
      if (key.startsWith(GEMM_PREFIX)) byShape[key.slice(GEMM_PREFIX.length)] = this.minWorkPerShard('gemm', key.slice(GEMM_PREFIX.length), now);
      else byKernel[key] = this.minWorkPerShard('elements', key, now);
    }
    const source = (kind: ShardKind, measured: boolean) => (this.isFixed(kind) ? 'option' : measured ? 'measured' : 'default') as 'option' | 'measured' | 'default';
    const elementsMeasured = overhead !== null && Object.keys(byKernel).length > 0;
    const gemmMeasured = overhead !== null && Object.keys(byShape).length > 0;
    const kernels: Record<string, KernelSharding> = {};
    for (const key of [...this.verdicts.keys()].sort()) {
      const v = this.verdicts.get(key)!;
      const speedup = v.speedup();
      kernels[key] = { state: v.suspended ? 'suspended' : 'sharding', speedup: speedup === null ? null : round(speedup, 3), shardedCalls: v.shardedCalls, probes: v.probes, reason: this.kernelReason(v) };
    }
    const speedup = this.speedup();
    return {
      state: this.state(),
      wakeJoinUs: overhead === null ? null : round(overhead * 1000, 1),
      speedup: speedup === null ? null : round(speedup, 3),
      kernels,
      minElementsPerShard: { default: this.minWorkPerShard('elements', '', now), byKernel, source: source('elements', elementsMeasured) },
      minGemmFlopsPerShard: { default: this.minWorkPerShard('gemm', '', now), byShape, source: source('gemm', gemmMeasured) },
      shardedCalls: this.shardedCalls,
      takenOver: this.takenOverCalls,
      probes: this.probes,
      references: this.references,
      reason: this.reason(),
    };
  }

  private reason(): string {
    if (this.isFixed('elements') && this.isFixed('gemm')) {
      return 'fixed thresholds (minElementsPerWorker and minGemmFlopsPerWorker were given): every call big enough is sharded, whatever it costs';
    }
    if (this.threads < 2) return 'one thread computes: nothing to adapt';
    const state = this.state();
    const suspended = [...this.verdicts.keys()].filter((key) => this.verdicts.get(key)!.suspended);
    // The kernel suspended last says why (with one kernel, the reason is exactly its own).
    const last = this.verdicts.get(this.lastSuspended !== undefined && suspended.includes(this.lastSuspended) ? this.lastSuspended : suspended[0]);
    if (state === 'suspended') return (suspended.length > 1 ? `every kernel is suspended (${suspended.join(', ')}); the last: ` : '') + this.kernelReason(last!);
    const s = this.speedup();
    if (s === null) return 'sharding calls above the default thresholds; no sharded call measured yet';
    const sharding = `sharding: recent sharded calls ran at ${round(s, 2)}× of one thread (EWMA over about ${this.window()} calls of each kernel); below ${this.suspendBelow}× a kernel's sharding stops`;
    return state === 'sharding' ? sharding : `${sharding}. Suspended: ${suspended.join(', ')}; the last: ${this.kernelReason(last!)}`;
  }

  /** The EWMA's effective window, in calls. */
  private window(): number {
    return Math.round(2 / this.weight - 1);
  }

  private kernelReason(v: KernelVerdict): string {
    if (v.suspended) {
      const measured = v.suspendedBy === 'calls' ? `sharded calls ran at ${round(v.suspendedSpeedup, 2)}× of one thread over the last ${this.window()} calls` : `the last probe ran at ${round(v.suspendedSpeedup, 2)}× of one thread`;
      return (
        `${measured}: the cores are busy (another process) or these calls are too short for the wake-up and join to pay, ` +
        `so calls run on the main thread alone, re-probing one call in ${this.probeEvery} (at most every ${v.probeGapMs} ms: ${this.probeAfterMs} ms, doubled by each probe that fails) and sharding again once a probe reaches ${this.resumeAt}×`
      );
    }
    const s = v.speedup();
    return s === null ? 'sharding; no sharded call judged yet' : `sharding: recent sharded calls ran at ${round(s, 2)}× of one thread; below ${this.suspendBelow}× sharding stops`;
  }

  /** A kernel's time per unit of work on one thread: inline calls when there are some, else its main-thread shards. */
  private perUnitMs(kernel: string): number | undefined {
    return this.inlineMsPerUnit.get(kernel) ?? this.shardMsPerUnit.get(kernel);
  }
}

/** Whether sharding one kernel (GEMM shape) pays: its speed-up EWMA, suspension and probe schedule. */
class KernelVerdict {
  suspended = false;
  /** The speed-up that suspended it, and whether the EWMA or a probe measured it. */
  suspendedSpeedup = 0;
  suspendedBy: 'calls' | 'probe' = 'calls';
  oneThreadEwma = 0;
  wallEwma = 0;
  samples = 0;
  shardedCalls = 0;
  probes = 0;
  eligibleSinceProbe = 0;
  lastProbeAt = 0;
  constructor(
    /** The current least time between probes: probeAfterMs, doubled by each failed probe. */
    public probeGapMs: number,
  ) {}

  speedup(): number | null {
    return this.samples === 0 ? null : this.oneThreadEwma / this.wallEwma;
  }
}

function learn(map: Map<string, number>, kernel: string, msPerUnit: number): void {
  const old = map.get(kernel);
  map.set(kernel, old === undefined ? msPerUnit : old + PER_UNIT_WEIGHT * (msPerUnit - old));
}

/** The name a GEMM's timings are learned under: its shape (n columns of C, k the inner dimension). */
export function gemmShape(n: number, k: number): string {
  return `${n}×${k}`;
}

const GEMM_PREFIX = 'nnGemm ';

/** Element kernels and GEMM shapes share the maps: GEMM keys carry a prefix no kernel name has. */
function unitKey(kind: ShardKind, kernel: string): string {
  return kind === 'gemm' ? GEMM_PREFIX + kernel : kernel;
}

/**
 * The middle value, the lower of the two middle ones for an even count — not the interpolated
 * median (metrics/quantile.ts): with two references, one preempted call must not move it.
 */
function lowerMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}

/** Reference calls are kept per kernel and power-of-two size of the call's work. */
function referenceKey(kind: ShardKind, kernel: string, work: number): string {
  return `${unitKey(kind, kernel)} 2^${Math.round(Math.log2(Math.max(1, work)))}`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
