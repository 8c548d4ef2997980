// The project's main job (`npm start`): what IVON's posterior buys on a device, against a fairly
// tuned AdamW — a baseline with settings chosen on validation rows, no validation split (leave-one-
// out), mislabelled examples found, two devices' models merged, noisy and shifted inputs and held-
// out classes. Prints each part's tables and one verdict line per claim, and writes report.json,
// report.html and the SVG figures to --out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { createRuntime, type BackendChoice } from '../index.js';
import type { FitProgress } from '../nn/fit.js';
import { DEFAULT_CONFIG, PART_IDS, REDUCED_CONFIG, type MainJobConfig, type PartId } from './config.js';
import { reportHtml } from './html.js';
import { runMainJob } from './job.js';
import { formatReport, type MainJobReport } from './report.js';

const USAGE = `usage: npm start -- [--backend js|wasm|webgpu|auto] [--seeds 0-1] [--epochs N] [--parts a,b] [--reduced] [--out DIR]
  --backend  compute backend (default auto: the runtime's choice for this model size — see createRuntime)
  --seeds    seeds to run, a range or a list (default ${DEFAULT_CONFIG.seeds.join(',')}); each seed is its own split, init, order and noise
  --epochs   training epochs of every model (default ${DEFAULT_CONFIG.epochs})
  --parts    a comma-separated subset of ${PART_IDS.join(',')} (default all; baseline always runs)
  --reduced  the small configuration the tests run on every backend (1 seed, ${REDUCED_CONFIG.epochs} epochs)
  --out      folder for report.json, report.html and the SVG figures (default out/)`;

export interface Args {
  backend: BackendChoice;
  config: MainJobConfig;
  out: string;
}

/** "0-9" or "0,2,5" → seeds. */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  const seeds = range ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i) : text.split(',').map(Number);
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new Error(`--seeds must look like 0-9 or 0,2,5, got '${text}'`);
  return seeds;
}

export function parseArgs(argv: string[]): Args | 'help' {
  const { values } = parseNodeArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'auto' },
      seeds: { type: 'string' },
      epochs: { type: 'string' },
      parts: { type: 'string' },
      reduced: { type: 'boolean', default: false },
      out: { type: 'string', default: 'out' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (!['js', 'wasm', 'webgpu', 'auto'].includes(values.backend)) throw new Error(`--backend must be js, wasm, webgpu or auto, got '${values.backend}'`);
  const config: MainJobConfig = { ...(values.reduced ? REDUCED_CONFIG : DEFAULT_CONFIG) };
  if (values.seeds !== undefined) config.seeds = parseSeeds(values.seeds);
  if (values.parts !== undefined) {
    const parts = values.parts.split(',');
    const unknown = parts.filter((p) => !(PART_IDS as readonly string[]).includes(p));
    if (unknown.length) throw new Error(`--parts: unknown part(s) ${unknown.join(', ')}; choose from ${PART_IDS.join(', ')}`);
    config.parts = ['baseline', ...(parts as PartId[]).filter((p) => p !== 'baseline')];
  }
  if (values.epochs !== undefined) {
    const n = Number(values.epochs);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--epochs must be an integer ≥ 1, got '${values.epochs}'`);
    config.epochs = n;
  }
  return { backend: values.backend as BackendChoice, config, out: values.out };
}

/** Weights and biases of an MLP with these layer widths. */
export function mlpParams(widths: number[]): number {
  let n = 0;
  for (let i = 0; i + 1 < widths.length; i++) n += widths[i] * widths[i + 1] + widths[i + 1];
  return n;
}

/** A one-line progress bar on stderr (redrawn in place on a terminal, silent otherwise). */
export function progressBar(): { update: (phase: string, p: FitProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    update(phase, p) {
      const now = performance.now();
      if (!tty || (now - last < 100 && p.step !== p.totalSteps)) return;
      last = now;
      const width = 30;
      const filled = Math.round((p.step / p.totalSteps) * width);
      process.stderr.write(`\r${phase.padEnd(24)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] epoch ${String(p.epoch + 1).padStart(3)}/${p.epochs}  loss ${p.loss.toFixed(4)}`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

/** report.json's text: the report with typed arrays as lists and each figure by its file name (the SVG text lives in that file). */
export function reportJson(r: MainJobReport): string {
  return JSON.stringify(r, (key, value) => (key === 'svg' ? undefined : ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value), 2);
}

/** report.json, report.html and every part's SVG figures; returns the paths written. */
export function writeOutputs(r: MainJobReport, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const files: [string, string][] = [
    ['report.json', reportJson(r)],
    ['report.html', reportHtml(r)],
    ...r.parts.flatMap((p) => p.figures.map((f): [string, string] => [f.file, f.svg])),
  ];
  return files.map(([name, text]) => {
    const path = resolve(outDir, name);
    writeFileSync(path, text);
    return path;
  });
}

async function main(): Promise<void> {
  let args: Args | 'help';
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  // 'auto': the scheduler decides from the model's size (a 26k-parameter MLP stays on the CPU
  // unless a GPU wins at that size; see gpuMinElements in src/scheduler/defaults.ts).
  const rt = await createRuntime({ backend: args.backend, expectedParams: mlpParams([64, ...args.config.hidden, 10]) });
  const bar = progressBar();
  try {
    const report = await runMainJob(rt, args.config, bar.update);
    bar.done();
    console.log(formatReport(report));
    console.log(`\nwrote ${writeOutputs(report, args.out).join(', ')}`);
  } finally {
    await rt.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('src/cli/main.ts')) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
