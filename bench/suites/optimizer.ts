// Suite 'optimizer': per-step time of IVON (one MC sample: the one-pass update + next sample the
// backend prefers, with the other noise strategy, the two-pass step and the step with a per-element
// prior beside it), AdamW and SGD
// at each size on each CPU backend, twice: the kernels alone through the Backend interface
// ('step'), and the public optimizer API ('api-step': sampledParams with a callback that takes
// every gradient view as a model that writes them all would, then step()). The difference is the
// API's overhead: the non-finite check and bookkeeping. WebGPU rows come from the 'webgpu' suite.

import type { Backend } from '../../src/backend.js';
import type { Runtime } from '../../src/runtime.js';

import { bytesMoved, type CountedKernel } from '../bytes.js';
import { sizesFor } from '../options.js';
import { reasonOf, type SuiteContext } from '../context.js';
import { adamwWork, ivonWork, PROBE_ROLES, sgdWork, type KernelWork } from '../kernel-work.js';
import { cpuProbes } from '../probes.js';
import { measurement, type Measurement } from '../results.js';
import { apiStep } from './api-step.js';

export const OPTIMIZERS: ReadonlyArray<{ name: 'ivon' | 'adamw' | 'sgd'; kernels: (b: Backend, n: number) => KernelWork; traffic: CountedKernel }> = [
  { name: 'ivon', kernels: ivonWork, traffic: 'ivonStep' },
  { name: 'adamw', kernels: adamwWork, traffic: 'adamwUpdate' },
  { name: 'sgd', kernels: sgdWork, traffic: 'sgdUpdate' },
];

export async function runOptimizerSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## optimizer: per-step time, kernels alone (step) and through the public API (api-step)');
  const rows: Measurement[] = [];
  for (const kind of ctx.options.backends) {
    if (kind === 'webgpu') {
      if (!ctx.options.suites.includes('webgpu')) ctx.log("  (webgpu steps are measured by the 'webgpu' suite: add --suite webgpu)");
      continue;
    }
    const opened = await ctx.openRuntime(kind);
    if (!opened.ok) {
      ctx.skip('optimizer', kind, opened.reason);
      continue;
    }
    try {
      rows.push(...(await optimizerRows(ctx, 'optimizer', opened.runtime, sizesFor(ctx.options), 0)));
    } finally {
      await opened.runtime.dispose();
    }
  }
  if (ctx.options.backends.includes('wasm')) rows.push(...(await tfjsAdamRows(ctx, sizesFor(ctx.options))));
  ctx.printTable('optimizer', rows);
}

/**
 * TensorFlow.js's own Adam step (tf.train.adam, wasm backend, one thread) on one variable of each
 * size: the yardstick issue 2 names for the IVON step ("faster than TensorFlow.js's Adam step"),
 * timed in the same run so the comparison survives this machine's drift. No GB/s: its unfused
 * kernels move more than the 28 B an Adam step needs.
 */
async function tfjsAdamRows(ctx: SuiteContext, sizes: readonly number[]): Promise<Measurement[]> {
  const tfjs = await ctx.host.loadTfjs();
  if (typeof tfjs === 'string') {
    ctx.skip('optimizer', 'tfjs-wasm', tfjs);
    return [];
  }
  const { tf } = tfjs;
  const rows: Measurement[] = [];
  for (const n of sizes) {
    const name = `adam-bench-${n}`; // applyGradients finds the variable by this name
    const weights = tf.variable(tf.tensor1d(new Float32Array(n).fill(0.05)), true, name);
    const gradient = tf.tensor1d(new Float32Array(n).fill(1e-3));
    const adam = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    try {
      const summary = await ctx.time(() => adam.applyGradients({ [name]: gradient }));
      rows.push(measurement({ suite: 'optimizer', backend: 'tfjs-wasm', optimizer: 'adam', name: 'step', params: n, workers: 0, note: tfjs.description }, summary));
    } catch (error) {
      // TF.js is only the yardstick: if it fails at a size (out of memory, say), that row is skipped, not the suite.
      ctx.skip('optimizer', `tfjs-wasm at ${n} parameters`, reasonOf(error));
    } finally {
      adam.dispose();
      gradient.dispose();
      weights.dispose();
    }
  }
  rows.forEach((r) => ctx.record(r));
  return rows;
}

/**
 * Kernel-path and API-path step rows for every optimizer and size on one runtime. The three
 * optimizers' steps are timed in alternation (timeInterleaved), so the IVON / AdamW ratio is not
 * skewed by a slow spell of the machine landing on one of them.
 */
export async function optimizerRows(ctx: SuiteContext, suite: string, runtime: Runtime, sizes: readonly number[], workers: number): Promise<Measurement[]> {
  const backend = runtime.compute;
  const rows: Measurement[] = [];
  const row = (optimizer: string, name: string, n: number) => ({ suite, backend: backend.kind, optimizer, name, params: n, workers });
  for (const n of sizes) {
    const works = OPTIMIZERS.map((opt) => opt.kernels(backend, n));
    try {
      // IVON's step with a per-element prior alternates with the others, so 'step-prior' / 'step' is a
      // ratio of the same alternation.
      const ivon = works[OPTIMIZERS.findIndex((opt) => opt.name === 'ivon')];
      // Where the noise is stored (CPU), 'step-ahead' — the step with the next z drawn ahead on a
      // worker — alternates too: its ratio to AdamW's step is the critical path issue 16 targets.
      const ahead = backend.prefersRedraw ? [] : [ivon.work['step-ahead'], ivon.work.drawEpsilon];
      // ...and so does the triad probe over the same bytes as that step, for its bandwidth ratio.
      const triad = ahead.length > 0 ? sameBytesTriad(backend, n) : undefined;
      if (triad) ahead.push(triad.run);
      const steps = await ctx.timeInterleaved([...works.map((kw) => kw.work.step), ivon.work['step-prior'], ...ahead]).finally(() => triad?.dispose());
      OPTIMIZERS.forEach((opt, i) => {
        const traffic = opt.name !== 'ivon' ? opt.traffic : backend.prefersRedraw ? 'ivonUpdateAndDraw' : 'ivonUpdateFusedAndSample';
        rows.push(measurement(row(opt.name, 'step', n), steps[i], { bytes: bytesMoved(traffic, n) }));
      });
      const priorTraffic = backend.prefersRedraw ? 'ivonUpdateAndDrawPrior' : 'ivonUpdateFusedAndSamplePrior';
      rows.push(measurement(row('ivon', 'step-prior', n), steps[OPTIMIZERS.length], { bytes: bytesMoved(priorTraffic, n) }));
      if (ahead.length > 0) {
        rows.push(measurement(row('ivon', 'step-ahead', n), steps[OPTIMIZERS.length + 1], { bytes: bytesMoved('ivonUpdateFusedAndSampleGiven', n) }));
        rows.push(measurement(row('ivon', 'drawEpsilon', n), steps[OPTIMIZERS.length + 2], { bytes: bytesMoved('fillNormal', n) }));
        if (triad) {
          const note = `triad over ${triad.elements} elements: the bytes of step-ahead at ${n}, timed in its alternation`;
          rows.push(measurement({ ...row('ivon', 'triad', n), optimizer: null, note }, steps[OPTIMIZERS.length + 3], { bytes: bytesMoved('triad', triad.elements) }));
        }
      }
      // IVON's other noise strategy and its two-pass step, measured in the same run (docs/KERNELS.md §3).
      const alternatives = [
        backend.prefersRedraw ? (['step-stored', 'ivonUpdateFusedAndSample'] as const) : (['step-redraw', 'ivonUpdateAndDraw'] as const),
        ['step-two-pass', 'ivonStep'] as const,
      ];
      for (const [name, bytes] of alternatives) {
        rows.push(measurement(row('ivon', name, n), await ctx.time(ivon.work[name]), { bytes: bytesMoved(bytes, n) }));
      }
    } finally {
      works.forEach((kw) => kw.dispose());
    }
    // The API steps alternate the same way, so `api-step − step` is the API's overhead.
    const apis = OPTIMIZERS.map((opt) => apiStep(runtime, opt.name, n));
    try {
      const apiSteps = await ctx.timeInterleaved(apis.map((api) => api.run));
      OPTIMIZERS.forEach((opt, i) => rows.push(measurement(row(opt.name, 'api-step', n), apiSteps[i])));
    } finally {
      apis.forEach((api) => api.dispose());
    }
  }
  rows.forEach((r) => ctx.record(r));
  return rows;
}

/**
 * The in-module triad probe over as many bytes as the step with ε drawn ahead moves at `n`
 * parameters (44 B vs 12 B per element), so the two stream the same working set through memory.
 */
function sameBytesTriad(backend: Backend, n: number): { run: () => Promise<void>; elements: number; dispose: () => void } | undefined {
  const elements = Math.ceil((n * bytesMoved('ivonUpdateFusedAndSampleGiven', 1)) / bytesMoved('triad', 1) / 16) * 16;
  const arena = backend.createArena(elements, PROBE_ROLES);
  const range = { start: 0, count: elements };
  for (const role of PROBE_ROLES) backend.fill(arena, role, range, 0.5);
  const probes = cpuProbes(backend, arena, range);
  if (typeof probes === 'string') {
    backend.destroyArena(arena);
    return undefined;
  }
  const triad = probes.triad;
  return { run: async () => triad(), elements, dispose: () => backend.destroyArena(arena) };
}
