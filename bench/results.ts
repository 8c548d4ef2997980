// The shape of what the harness writes: one Measurement per timed thing, the platform it ran on,
// the ratios derived from measurements of the same run, and the suites that were skipped and why.
// validateReport() guards the JSON schema so downstream tools (and users comparing devices) can
// rely on it.

import type { Summary } from './stats.js';

export interface Platform {
  runtime: string;
  version: string;
  cores: number;
  cpu: string;
  os: string;
  arch: string;
  memory_gb: number;
  date: string;
  args: string[];
  quick: boolean;
}

export interface Measurement {
  suite: string;
  backend: string;
  /** 'ivon' | 'adamw' | 'sgd', or null for probes, RNG and GEMM rows. */
  optimizer: string | null;
  /** What was timed: 'step', 'api-step', a kernel name, a probe, a GEMM product, 'epoch'. */
  name: string;
  /** Elements the timed work covers (parameters; normals; GEMM: m·n·k; epoch: model parameters). */
  params: number;
  /** Worker threads (0 = the main thread, no pool). */
  workers: number;
  median_ms: number;
  p90_ms: number;
  min_ms: number;
  reps: number;
  /** Achieved bandwidth from the bytes the work must move (bench/bytes.ts), null where not meaningful. */
  gbps: number | null;
  /** median_ms per element, in ns; null where not meaningful. */
  ns_per_param: number | null;
  gflops?: number;
  normals_per_s?: number;
  /** GPU time from timestamp queries (WebGPU, when the adapter has timestamp-query). */
  gpu_median_ms?: number;
  gpu_p90_ms?: number;
  gpu_gbps?: number;
  /** Process CPU time / wall time over this row's runs (Node; absent where the host has no CPU clock). */
  cpu_per_wall?: number;
  /** Busy processes sharing the cores during this row (bench --busy N); absent: none started. */
  busy_processes?: number;
  /** Runs timed as one sample when one run is shorter than the clock can time (browsers); times are per run. */
  runs_per_sample?: number;
  note?: string;
}

export interface Ratio {
  /** What is compared, e.g. 'IVON step / AdamW step'. */
  name: string;
  backend: string;
  params: number | null;
  workers: number | null;
  value: number;
  unit: string;
  /** The target it is checked against, if any. */
  target: { op: '<=' | '>='; value: number } | null;
  meets: boolean | null;
}

export interface Skip {
  suite: string;
  backend: string | null;
  reason: string;
}

export interface Report {
  platform: Platform;
  /** The WebGPU adapter, when the webgpu suite ran. */
  gpu?: { adapter: string; software: boolean; timestamp_query: string };
  results: Measurement[];
  ratios: Ratio[];
  skipped: Skip[];
}

/** Builds a Measurement from a timing summary; gbps/ns_per_param from bytes and elements when given. */
export function measurement(
  base: Pick<Measurement, 'suite' | 'backend' | 'optimizer' | 'name' | 'params' | 'workers'> & { note?: string },
  summary: Summary,
  work: { bytes?: number; perElement?: boolean } = {},
): Measurement {
  const m: Measurement = {
    ...base,
    median_ms: summary.median_ms,
    p90_ms: summary.p90_ms,
    min_ms: summary.min_ms,
    reps: summary.reps,
    gbps: work.bytes !== undefined && summary.median_ms > 0 ? work.bytes / (summary.median_ms * 1e6) : null,
    ns_per_param: work.perElement === false || !(base.params > 0) ? null : (summary.median_ms * 1e6) / base.params,
  };
  if (base.note === undefined) delete m.note;
  if (summary.cpu_per_wall !== undefined) m.cpu_per_wall = summary.cpu_per_wall;
  if (summary.runs_per_sample !== undefined) m.runs_per_sample = summary.runs_per_sample;
  return m;
}

const REQUIRED_NUMBERS = ['params', 'workers', 'median_ms', 'p90_ms', 'min_ms', 'reps'] as const;

/** Throws with the first schema violation found; returns the report unchanged otherwise. */
export function validateReport(report: Report): Report {
  const fail = (msg: string): never => {
    throw new Error(`bench report: ${msg}`);
  };
  if (!report || typeof report !== 'object') fail('not an object');
  const p = report.platform;
  if (!p || typeof p.runtime !== 'string' || typeof p.version !== 'string' || !(p.cores >= 1) || typeof p.cpu !== 'string') {
    fail('platform needs runtime, version, cores >= 1 and cpu');
  }
  if (!Array.isArray(report.results) || !Array.isArray(report.ratios) || !Array.isArray(report.skipped)) fail('results, ratios and skipped must be arrays');
  report.results.forEach((m, i) => {
    for (const key of ['suite', 'backend', 'name'] as const) if (typeof m[key] !== 'string' || !m[key]) fail(`results[${i}].${key} must be a non-empty string`);
    if (m.optimizer !== null && typeof m.optimizer !== 'string') fail(`results[${i}].optimizer must be a string or null`);
    for (const key of REQUIRED_NUMBERS) if (!Number.isFinite(m[key]) || m[key] < 0) fail(`results[${i}].${key} must be a finite number >= 0, got ${m[key]}`);
    if (m.p90_ms < m.median_ms) fail(`results[${i}]: p90_ms ${m.p90_ms} < median_ms ${m.median_ms}`);
    if (m.median_ms < m.min_ms) fail(`results[${i}]: median_ms ${m.median_ms} < min_ms ${m.min_ms}`);
    if (m.cpu_per_wall !== undefined && !(Number.isFinite(m.cpu_per_wall) && m.cpu_per_wall >= 0)) fail(`results[${i}].cpu_per_wall must be a finite number >= 0 when present`);
    if (m.busy_processes !== undefined && !(Number.isInteger(m.busy_processes) && m.busy_processes >= 0)) fail(`results[${i}].busy_processes must be an integer >= 0 when present`);
    for (const key of ['gbps', 'ns_per_param'] as const) {
      if (m[key] !== null && !(Number.isFinite(m[key]) && (m[key] as number) >= 0)) fail(`results[${i}].${key} must be null or a finite number >= 0`);
    }
  });
  report.ratios.forEach((r, i) => {
    if (typeof r.name !== 'string' || !Number.isFinite(r.value)) fail(`ratios[${i}] needs a name and a finite value`);
    if (r.target !== null && (!['<=', '>='].includes(r.target.op) || !Number.isFinite(r.target.value))) fail(`ratios[${i}].target is malformed`);
    if ((r.target === null) !== (r.meets === null)) fail(`ratios[${i}]: meets must be set exactly when there is a target`);
  });
  report.skipped.forEach((s, i) => {
    if (typeof s.suite !== 'string' || typeof s.reason !== 'string' || !s.reason) fail(`skipped[${i}] needs a suite and a reason`);
  });
  return report;
}
