// The ratios that matter, derived only from measurements of the same run (never from stored
// numbers), each checked against its target from issues 2–5 where one exists. Pure: it takes the
// measurements and returns the ratios, so the pairing logic is unit-tested.

import type { Measurement, Ratio } from './results.js';

export const TARGETS = {
  ivonOverAdamwCpu: 3, // issue 2: IVON step ≤ 3× our AdamW on the same backend
  ivonOverAdamwGpu: 1.3, // issue 3
  ivonAheadOverAdamw: 2, // issue 16: the step's critical path with ε drawn ahead ≤ 2× AdamW's step
  aheadOverTriad: 0.85, // issue 16: that step's GB/s ≥ 85% of the triad probe's
  wasmOverJsIvon: 5, // issue 2: WASM SIMD IVON ≥ 5× the plain-TypeScript backend
  kernelOverProbe: 0.6, // issue 2: memory-bound kernels ≥ 60% of the probe
  gpuIvonOverCopy: 0.7, // issue 3: at ≥ 64M parameters
  gpuLargeParams: 64 * 2 ** 20,
  normalsPerSecondM: 300, // issue 2: ≥ 300 M normals/s on one core
  ivonNsPerParam: 6, // issue 2: < 6 ns/param (TensorFlow.js's Adam step, as the issue measured it)
  ivonOverTfjsAdam: 1, // issue 2: the IVON step faster than TensorFlow.js's Adam step, same run
  adamwNsPerParam: 1.2,
  sampleWorkerSpeedup2: 1.7, // issue 4: sampling ≥ 1.7× with 2 workers
  stepNeverSlower: 1.0, // issue 4: the step never slower with workers than without
  autoNeverBelow: 0.95, // issue 16: adaptive ('auto') sharding never below 0.95× of the main thread, busy device or not
  sampleOneWorkerIdle: 1.9, // issue 16: sampling with 1 worker + main ≥ 1.9× the main thread at 4M–16M, idle machine
  sampleOneWorkerIdleFrom: 4 * 2 ** 20,
  gemmGflops: 20, // issue 5: ≥ 20 GFLOP/s per core on all three products
  epochIvonOverAdamw: 1.2, // issue 5 (one thread; issue 16 keeps it)
  epochIvonOverAdamwPooled: 1.05, // issue 16: with a worker drawing the noise ahead
  posteriorOverEpoch: 12, // issue 12: predictionVariance / sensitivity ≤ K + 2 epochs (K = 10 classes)
} as const;

/** Kernels whose bandwidth is compared with the probe (fillNormal is compute-bound: excluded). */
const MEMORY_BOUND = new Set(['ivonSample', 'ivonUpdateFused', 'adamwUpdate', 'sgdUpdate', 'step', 'step-ahead']);

/** The workers suite's rows of the adaptive ('auto') pool: 'ivonSample-auto', 'step-auto'. */
const AUTO_SUFFIX = '-auto';

/** Sizes at which a step's time is mostly fixed cost (the workers suite runs 4K and 64K). */
const SMALL_MODEL = 64 * 1024;

const isCpu = (backend: string): boolean => backend === 'js' || backend === 'wasm';

function ratio(
  name: string,
  m: Pick<Measurement, 'backend' | 'params' | 'workers'> | { backend: string; params: number | null; workers: number | null },
  value: number,
  unit: string,
  target: Ratio['target'],
): Ratio {
  const meets = target === null ? null : target.op === '<=' ? value <= target.value : value >= target.value;
  return { name, backend: m.backend, params: m.params, workers: m.workers, value, unit, target, meets };
}

const same = (a: Measurement, b: Measurement): boolean => a.backend === b.backend && a.params === b.params && a.workers === b.workers;

export function computeRatios(results: readonly Measurement[]): Ratio[] {
  const out: Ratio[] = [];
  const rows = (pred: (m: Measurement) => boolean) => results.filter(pred);
  const steps = rows((m) => m.name === 'step' && m.suite !== 'workers');

  // IVON / AdamW, per backend, size and worker count.
  for (const ivon of steps.filter((m) => m.optimizer === 'ivon')) {
    const adamw = steps.find((m) => m.optimizer === 'adamw' && same(m, ivon));
    if (!adamw) continue;
    const limit = isCpu(ivon.backend) ? TARGETS.ivonOverAdamwCpu : TARGETS.ivonOverAdamwGpu;
    out.push(ratio('IVON step / AdamW step', ivon, ivon.median_ms / adamw.median_ms, '×', { op: '<=', value: limit }));
    if (ivon.gpu_median_ms !== undefined && adamw.gpu_median_ms !== undefined) {
      out.push(ratio('IVON step / AdamW step (GPU time)', ivon, ivon.gpu_median_ms / adamw.gpu_median_ms, '×', { op: '<=', value: limit }));
    }
  }

  // Issue 16: the step's critical path with the next z drawn ahead, against AdamW's step and against
  // IVON's one-pass step that draws it (all three in one alternation).
  for (const ahead of rows((m) => m.name === 'step-ahead' && m.optimizer === 'ivon')) {
    const adamw = steps.find((m) => m.optimizer === 'adamw' && same(m, ahead));
    const ivon = steps.find((m) => m.optimizer === 'ivon' && same(m, ahead));
    // The target is the CPU's (issue 16); on the GPU the row only shows whether drawing ahead would pay.
    const target = isCpu(ahead.backend) ? ({ op: '<=', value: TARGETS.ivonAheadOverAdamw } as const) : null;
    if (adamw) out.push(ratio('IVON step, ε drawn ahead / AdamW step', ahead, ahead.median_ms / adamw.median_ms, '×', target));
    if (ivon) out.push(ratio('IVON step, ε drawn ahead / ε drawn in the step', ahead, ahead.median_ms / ivon.median_ms, '×', null));
  }

  // The cost of a per-element prior (docs/KERNELS.md §2.1): timed in the same alternation as 'step'.
  for (const prior of rows((m) => m.name === 'step-prior' && m.optimizer === 'ivon')) {
    const ivon = steps.find((m) => m.optimizer === 'ivon' && same(m, prior));
    if (ivon) out.push(ratio('IVON step with a per-element prior / without', prior, prior.median_ms / ivon.median_ms, '×', null));
  }

  // The wasm IVON step against TensorFlow.js's Adam step (its wasm backend, one thread) of the same size.
  for (const ivon of steps.filter((m) => m.optimizer === 'ivon' && m.backend === 'wasm' && m.workers === 0)) {
    const adam = steps.find((m) => m.backend === 'tfjs-wasm' && m.optimizer === 'adam' && m.params === ivon.params);
    if (adam) out.push(ratio('IVON step / TF.js Adam step', ivon, ivon.median_ms / adam.median_ms, '×', { op: '<=', value: TARGETS.ivonOverTfjsAdam }));
  }

  // WASM vs JS speed-up, per optimizer and size (single thread).
  for (const wasm of steps.filter((m) => m.backend === 'wasm' && m.workers === 0)) {
    const js = steps.find((m) => m.backend === 'js' && m.workers === 0 && m.optimizer === wasm.optimizer && m.params === wasm.params);
    if (!js) continue;
    const target = wasm.optimizer === 'ivon' ? ({ op: '>=', value: TARGETS.wasmOverJsIvon } as const) : null;
    out.push(ratio(`${wasm.optimizer} step: js time / wasm time`, { backend: 'wasm vs js', params: wasm.params, workers: 0 }, js.median_ms / wasm.median_ms, '×', target));
  }

  // Each memory-bound kernel's bandwidth against the probe of the same backend, size and run.
  for (const k of rows((m) => m.suite !== 'workers' && MEMORY_BOUND.has(m.name) && m.gbps !== null)) {
    const probeName = isCpu(k.backend) ? 'triad' : 'copy';
    const isProbe = (m: Measurement) => m.name === probeName && m.optimizer === null && same(m, k) && m.gbps !== null;
    // A probe timed in the kernel's own alternation (the optimizer suite's same-bytes triad) first.
    const probe = results.find((m) => isProbe(m) && m.suite === k.suite) ?? results.find(isProbe);
    if (!probe) continue;
    let target: Ratio['target'] = null;
    if (isCpu(k.backend)) target = { op: '>=', value: k.name === 'step-ahead' ? TARGETS.aheadOverTriad : TARGETS.kernelOverProbe };
    else if (k.name === 'step' && k.optimizer === 'ivon' && k.params >= TARGETS.gpuLargeParams) target = { op: '>=', value: TARGETS.gpuIvonOverCopy };
    const label = k.name === 'step' ? `${k.optimizer} step` : k.name === 'step-ahead' ? 'IVON step, ε drawn ahead,' : k.name;
    out.push(ratio(`${label} GB/s / ${probeName} probe GB/s`, k, (k.gbps as number) / (probe.gbps as number), '', target));
    if (k.gpu_gbps !== undefined && probe.gpu_gbps !== undefined) {
      out.push(ratio(`${label} GB/s / ${probeName} probe GB/s (GPU time)`, k, k.gpu_gbps / probe.gpu_gbps, '', target));
    }
  }

  // Where a normal's time goes: the Philox words alone over the whole normal (no target).
  for (const philox of rows((m) => m.name === 'philoxBlocks')) {
    const normal = results.find((m) => m.name === 'fillNormal' && same(m, philox));
    if (normal) out.push(ratio('Philox words / whole normals (time)', philox, philox.median_ms / normal.median_ms, '', null));
  }

  // RNG throughput against 300 M normals/s on one core.
  for (const r of rows((m) => m.normals_per_s !== undefined && m.workers === 0)) {
    out.push(ratio(`${r.name} normals/s`, r, (r.normals_per_s as number) / 1e6, 'M/s', { op: '>=', value: TARGETS.normalsPerSecondM }));
  }

  // ns/param of whole steps; the targets are for WASM SIMD on one core.
  for (const s of steps.filter((m) => isCpu(m.backend) && m.workers === 0 && m.ns_per_param !== null)) {
    const limit = s.optimizer === 'ivon' ? TARGETS.ivonNsPerParam : s.optimizer === 'adamw' ? TARGETS.adamwNsPerParam : undefined;
    if (limit === undefined) continue;
    out.push(ratio(`${s.optimizer} ns/param`, s, s.ns_per_param as number, 'ns', s.backend === 'wasm' ? { op: '<=', value: limit } : null));
  }

  // Worker scaling: N workers against 1 worker and against the main thread (workers = 0).
  const scaling = rows((m) => m.suite === 'workers');
  for (const m of scaling) {
    const one = scaling.find((b) => b.name === m.name && b.params === m.params && b.workers === 1);
    if (one && m.workers > 1) {
      const target = m.name === 'ivonSample' && m.workers === 2 ? ({ op: '>=', value: TARGETS.sampleWorkerSpeedup2 } as const) : null;
      out.push(ratio(`${m.name}: 1 worker / ${m.workers} workers`, m, one.median_ms / m.median_ms, '×', target));
    }
    const main = scaling.find((b) => b.name === m.name && b.params === m.params && b.workers === 0);
    if (main && m.workers > 0) {
      const target = m.name === 'step' ? ({ op: '>=', value: TARGETS.stepNeverSlower } as const) : null;
      const busy = m.busy_processes ? ` (${m.busy_processes} busy)` : '';
      out.push(ratio(`${m.name}: main thread / ${m.workers} workers${busy}`, m, main.median_ms / m.median_ms, '×', target));
      if (m.name === 'step' && m.params <= SMALL_MODEL) out.push(ratio('sharded step fixed cost (workers − main)', m, (m.median_ms - main.median_ms) * 1000, 'µs', null));
    }
  }

  // Adaptive ('auto') sharding against the main thread alone, timed in the same alternation: at
  // least 0.95× everywhere (the pool must stop sharding when the shards do not overlap), and the
  // full gain of 1 worker on sampling at 4M+ when no busy process shares the cores.
  for (const auto of scaling.filter((m) => m.name.endsWith(AUTO_SUFFIX))) {
    const name = auto.name.slice(0, -AUTO_SUFFIX.length);
    const main = scaling.find((b) => b.name === name && b.params === auto.params && b.workers === 0);
    if (!main || auto.workers === 0) continue;
    const busy = auto.busy_processes ?? 0;
    const idleSample = busy === 0 && name === 'ivonSample' && auto.workers === 1 && auto.params >= TARGETS.sampleOneWorkerIdleFrom;
    const target = { op: '>=', value: idleSample ? TARGETS.sampleOneWorkerIdle : TARGETS.autoNeverBelow } as const;
    const label = `${name}: main thread / ${auto.workers} worker${auto.workers === 1 ? '' : 's'} auto${busy > 0 ? ` (${busy} busy)` : ''}`;
    out.push(ratio(label, auto, main.median_ms / auto.median_ms, '×', target));
  }

  // GEMM: GFLOP/s against the target, and ours against TensorFlow.js on the same product and shape.
  const gemm = rows((m) => m.suite === 'gemm' && m.gflops !== undefined);
  for (const g of gemm.filter((m) => m.backend === 'wasm')) {
    out.push(ratio(`GEMM ${g.name} GFLOP/s`, g, g.gflops as number, 'GFLOP/s', { op: '>=', value: TARGETS.gemmGflops }));
    const tf = gemm.find((m) => m.backend === 'tfjs-wasm' && m.name === g.name && m.params === g.params);
    if (tf) out.push(ratio(`GEMM ${g.name}: ours / tfjs-wasm`, g, (g.gflops as number) / (tf.gflops as number), '×', null));
  }

  // Epoch time, IVON against AdamW on the same model, backend and thread count (issue 16: ≤ 1.05×
  // with workers, the noise drawn ahead); the noise drawn in the step instead; and each thread
  // count against the main thread alone — all epochs of a backend alternate in one run.
  const epochs = rows((m) => m.suite === 'epoch');
  for (const e of epochs.filter((m) => m.optimizer === 'ivon')) {
    const a = epochs.find((m) => m.optimizer === 'adamw' && m.name === 'epoch' && same(m, e));
    if (!a) continue;
    const limit = e.workers > 0 ? TARGETS.epochIvonOverAdamwPooled : TARGETS.epochIvonOverAdamw;
    const label = e.name === 'epoch' ? 'IVON epoch / AdamW epoch' : `IVON ${e.name} / AdamW epoch`;
    out.push(ratio(label, e, e.median_ms / a.median_ms, '×', e.name === 'epoch' ? { op: '<=', value: limit } : null));
  }
  for (const e of epochs.filter((m) => m.name === 'epoch' && m.workers > 0)) {
    const main = epochs.find((m) => m.name === 'epoch' && m.optimizer === e.optimizer && m.backend === e.backend && m.params === e.params && m.workers === 0);
    // The pooled runtime here is what workers: 'auto' gives on this many cores: never slower than one thread.
    if (main) out.push(ratio(`${e.optimizer} epoch: main thread / ${e.workers} worker(s) + main`, e, main.median_ms / e.median_ms, '×', { op: '>=', value: TARGETS.autoNeverBelow }));
  }

  // The posterior's uses in epochs of the same model, backend and run.
  for (const e of rows((m) => m.suite === 'posterior' && m.name === 'epoch')) {
    for (const use of ['predictionVariance', 'sensitivity']) {
      const u = results.find((m) => m.suite === 'posterior' && m.name === use && same(m, e));
      if (u) out.push(ratio(`${use} / IVON epoch`, u, u.median_ms / e.median_ms, 'epochs', { op: '<=', value: TARGETS.posteriorOverEpoch }));
    }
  }
  return out;
}
