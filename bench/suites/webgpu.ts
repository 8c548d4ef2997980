// Suite 'webgpu': the optimizer kernels and whole steps on the WebGPU backend, with the adapter's
// description (software adapters flagged: their timings say nothing about GPUs), host time until
// onSubmittedWorkDone (flush), GPU time from timestamp queries when the device has them, and the
// GB/s of each kernel against a GPU copy probe (a copy shader) measured in the same run.

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
    const push = (name: string, optimizer: string | null, n: number, traffic: CountedKernel | null, t: Awaited<ReturnType<typeof timeGpu>>) => {
      const bytes = traffic ? bytesMoved(traffic, n) : undefined;
      const m = measurement({ suite: 'webgpu', backend: 'webgpu', optimizer, name, params: n, workers: 0, note }, t.host, { bytes });
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
