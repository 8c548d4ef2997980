// Suite 'webgpu': the optimizer kernels and whole steps on the WebGPU backend, with the adapter's
// description (software adapters flagged: their timings say nothing about GPUs), host time until
// onSubmittedWorkDone (flush), GPU time from timestamp queries when the device has them, and the
// GB/s of each kernel against a GPU copy probe (a copy shader) measured in the same run. With the
// IVON rows, the one-pass step with ε drawn ahead (docs/KERNELS.md §3.1) timed in alternation with
// 'step', which regenerates ε, so a real GPU shows whether drawing ahead pays there.

import type { Arena, Backend, Range, Role } from '../../src/backend.js';
import { releaseWebGpu } from '../backends.js';
import { bytesMoved, type CountedKernel } from '../bytes.js';
import { sizesFor } from '../options.js';
import type { SuiteContext } from '../context.js';
import { GpuTimer } from '../gpu-timer.js';
import { adamwWork, ivonWork, PROBE_ROLES, sgdWork, type KernelWork } from '../kernel-work.js';
import { measurement, type Measurement } from '../results.js';
import { summarize, type TimingPlan } from '../stats.js';
import { apiStep } from './api-step.js';

/** The parts of gpu/webgpu-backend.ts's WebGpuBackend beyond the Backend interface used here. */
interface GpuExtras {
  device: GPUDevice;
  adapterDescription: string;
  isSoftwareAdapter: boolean;
  copyKernel(arena: Arena, dst: Role, src: Role, range: Range): void;
  triad(arena: Arena, z: Role, x: Role, y: Role, range: Range, a: number): void;
}

const LARGE = 64 * 2 ** 20;

export interface GpuInfo {
  adapter: string;
  software: boolean;
  timestamp_query: string;
}

/** Host and (when available) GPU times of enqueued work over warm-up + timed runs. */
async function timeGpu(backend: Backend, enqueue: () => void, timer: GpuTimer | undefined, plan: TimingPlan) {
  const run = async () => {
    const t0 = performance.now();
    timer?.mark(0);
    enqueue();
    timer?.mark(1);
    await backend.flush();
    const host = performance.now() - t0;
    return { host, gpu: timer ? await timer.elapsedMs() : undefined };
  };
  const first = await run();
  const reps = first.host > 200 ? Math.max(3, Math.min(plan.minReps, Math.floor(8000 / first.host))) : plan.maxReps;
  for (let i = 1; i < plan.warmup; i++) await run();
  const host: number[] = [];
  const gpu: number[] = [];
  const start = performance.now();
  while (host.length < reps) {
    const r = await run();
    host.push(r.host);
    if (r.gpu !== undefined) gpu.push(r.gpu);
    if (host.length >= plan.minReps && performance.now() - start >= plan.minTimeMs) break;
  }
  return { host: summarize(host), gpu: gpu.length > 0 && gpu.every((g) => g >= 0) ? summarize(gpu) : undefined };
}

type GpuTimes = Awaited<ReturnType<typeof timeGpu>>;

/** Rounds of the drawn-ahead alternation; each round times every unit with 1/ROUNDS of the plan. */
const ROUNDS = 3;

/**
 * ε drawn ahead on the GPU (docs/KERNELS.md §3.1), on ivonWork's arena: 'step-ahead' (the step
 * reading ε, 44 B/element: what the step costs if ε were free), 'drawEpsilon' (4 B written) and
 * 'step-ahead+draw' (both, 48 B: the step when the draw shares the GPU's one queue), timed in
 * ROUNDS rounds alternating with 'step' (ε regenerated, 32 B). Each row keeps the round with the
 * middle host median; its ratios to 'step' are the medians of the per-round ratios.
 */
async function timeDrawnAhead(backend: Backend, kw: KernelWork, timer: GpuTimer | undefined, plan: TimingPlan) {
  const { step, drawEpsilon, 'step-ahead': ahead } = kw.enqueue;
  drawEpsilon(); // 'step-ahead' reads normals from its first run on
  const units: Array<[string, CountedKernel, () => void]> = [
    ['step-ahead', 'ivonUpdateFusedAndSampleGiven', ahead],
    ['drawEpsilon', 'fillNormal', drawEpsilon],
    ['step-ahead+draw', 'ivonStepDrawnAhead', () => (drawEpsilon(), ahead())],
  ];
  const roundPlan: TimingPlan = { ...plan, minReps: Math.ceil(plan.minReps / ROUNDS), maxReps: Math.ceil(plan.maxReps / ROUNDS), minTimeMs: plan.minTimeMs / ROUNDS };
  const rounds: Array<{ step: GpuTimes; units: GpuTimes[] }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const stepTimes = await timeGpu(backend, step, timer, roundPlan);
    const unitTimes: GpuTimes[] = [];
    for (const [, , enqueue] of units) unitTimes.push(await timeGpu(backend, enqueue, timer, roundPlan));
    rounds.push({ step: stepTimes, units: unitTimes });
  }
  const middle = (k: number) => [...rounds].sort((a, b) => a.units[k].host.median_ms - b.units[k].host.median_ms)[ROUNDS >> 1].units[k];
  const ratio = (k: number, of: (x: GpuTimes) => number | undefined) => {
    const each = rounds.map((r) => [of(r.units[k]), of(r.step)]);
    return each.every(([u, s]) => u !== undefined && s !== undefined && s > 0) ? summarize(each.map(([u, s]) => u! / s!)).median_ms : undefined;
  };
  return units.map(([name, traffic], k) => ({
    name,
    traffic,
    times: middle(k),
    overStep: ratio(k, (x) => x.host.median_ms),
    overStepGpu: ratio(k, (x) => x.gpu?.median_ms),
  }));
}

export async function runWebGpuSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## webgpu: kernels and steps on the GPU (host time to onSubmittedWorkDone; GPU time from timestamp queries)');
  if (!ctx.options.backends.includes('webgpu')) {
    ctx.skip('webgpu', 'webgpu', 'webgpu is not in --backend');
    return;
  }
  const opened = await ctx.openRuntime('webgpu');
  if (!opened.ok) {
    ctx.skip('webgpu', 'webgpu', opened.reason);
    await releaseWebGpu();
    return;
  }
  const backend = opened.backend;
  const gpu = backend as unknown as Partial<GpuExtras>;
  let timer: GpuTimer | undefined;
  try {
    if (!gpu.device || typeof gpu.copyKernel !== 'function' || typeof gpu.triad !== 'function') {
      ctx.skip('webgpu', 'webgpu', 'the WebGPU backend exposes no device / copyKernel / triad for the probes');
      return;
    }
    const made = GpuTimer.create(gpu.device);
    timer = typeof made === 'string' ? undefined : made;
    const info: GpuInfo = {
      adapter: gpu.adapterDescription ?? backend.description,
      software: gpu.isSoftwareAdapter ?? false,
      timestamp_query: typeof made === 'string' ? made : 'yes',
    };
    ctx.gpu = info;
    ctx.log(`  adapter: ${info.adapter}${info.software ? '  [SOFTWARE ADAPTER: correctness only, timings are not GPU performance]' : ''}`);
    ctx.log(`  timestamp-query: ${info.timestamp_query}`);
    let sizes = sizesFor(ctx.options);
    if (info.software) {
      sizes = [Math.min(...sizes, 2 ** 20)];
      ctx.log(`  software adapter: sizes capped to ${sizes[0]} elements`);
    } else if (ctx.options.sizes === null && !ctx.options.quick) sizes = [...sizes, LARGE];
    const rows: Measurement[] = [];
    const note = info.software ? 'software adapter' : undefined;
    const push = (name: string, optimizer: string | null, n: number, traffic: CountedKernel | null, t: GpuTimes, extraNote?: string) => {
      const bytes = traffic ? bytesMoved(traffic, n) : undefined;
      const notes = [extraNote, note].filter((x) => x !== undefined).join('; ') || undefined;
      const m = measurement({ suite: 'webgpu', backend: 'webgpu', optimizer, name, params: n, workers: 0, note: notes }, t.host, { bytes });
      if (t.gpu) {
        m.gpu_median_ms = t.gpu.median_ms;
        m.gpu_p90_ms = t.gpu.p90_ms;
        if (bytes !== undefined && t.gpu.median_ms > 0) m.gpu_gbps = bytes / (t.gpu.median_ms * 1e6);
      }
      rows.push(m);
    };
    for (const n of sizes) {
      const arena = backend.createArena(n, PROBE_ROLES);
      const range = { start: 0, count: n };
      for (const role of PROBE_ROLES) backend.fill(arena, role, range, 0.5);
      try {
        push('copy', null, n, 'copy', await timeGpu(backend, () => gpu.copyKernel!(arena, 'theta', 'mean', range), timer, ctx.plan));
        push('triad', null, n, 'triad', await timeGpu(backend, () => gpu.triad!(arena, 'noise', 'mean', 'hess', range, 1.0001), timer, ctx.plan));
      } finally {
        backend.destroyArena(arena);
      }
      const plans: Array<{ optimizer: 'ivon' | 'adamw' | 'sgd'; make: (b: Backend, n: number) => KernelWork; units: Array<[string, CountedKernel]> }> = [
        {
          optimizer: 'ivon',
          make: ivonWork,
          units: [
            ['step', backend.prefersRedraw ? 'ivonUpdateAndDraw' : 'ivonStep'],
            ['step-prior', backend.prefersRedraw ? 'ivonUpdateAndDrawPrior' : 'ivonUpdateFusedAndSamplePrior'],
            ['step-stored', 'ivonUpdateFusedAndSample'],
            ['step-redraw', 'ivonUpdateAndDraw'],
            ['step-two-pass', 'ivonStep'],
            ['ivonSample', 'ivonSample'],
            ['ivonUpdateFused', 'ivonUpdateFused'],
            ['ivonDraw', 'ivonDraw'],
            ['ivonUpdateRedraw', 'ivonUpdateRedraw'],
            ['ivonUpdateAndDraw', 'ivonUpdateAndDraw'],
            ['ivonUpdateFusedAndSample', 'ivonUpdateFusedAndSample'],
          ],
        },
        { optimizer: 'adamw', make: adamwWork, units: [['step', 'adamwUpdate']] },
        { optimizer: 'sgd', make: sgdWork, units: [['step', 'sgdUpdate']] },
      ];
      for (const p of plans) {
        const kw = p.make(backend, n);
        try {
          for (const [name, traffic] of p.units) push(name, p.optimizer, n, traffic, await timeGpu(backend, kw.enqueue[name], timer, ctx.plan));
          if (p.optimizer === 'ivon') {
            // Each row's time over 'step' (ε regenerated) from the alternation, in its note (table and JSON).
            for (const row of await timeDrawnAhead(backend, kw, timer, ctx.plan)) {
              const gpuRatio = row.overStepGpu === undefined ? '' : `, GPU ${row.overStepGpu.toFixed(3)}×`;
              push(row.name, 'ivon', n, row.traffic, row.times, row.overStep === undefined ? undefined : `/ step ${row.overStep.toFixed(3)}×${gpuRatio}`);
            }
          }
        } finally {
          kw.dispose();
        }
        const api = apiStep(opened.runtime, p.optimizer, n);
        try {
          rows.push(measurement({ suite: 'webgpu', backend: 'webgpu', optimizer: p.optimizer, name: 'api-step', params: n, workers: 0, note }, await ctx.time(api.run)));
        } finally {
          api.dispose();
        }
      }
    }
    rows.forEach((r) => ctx.record(r));
    ctx.printTable('webgpu', rows);
  } finally {
    timer?.destroy();
    await opened.runtime.dispose();
    await releaseWebGpu();
  }
}
