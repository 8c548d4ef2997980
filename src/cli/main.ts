// The project's main job (`npm start`): trains the same MLP on the vendored digits with AdamW
// and with IVON, prints accuracy / NLL / ECE / Brier and an out-of-distribution check, and writes
// report.json plus SVG figures (reliability diagram, entropy histograms) to --out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRuntime, type BackendChoice } from '../index.js';
import type { ClassificationReport, DifferenceInterval } from '../metrics/index.js';
import type { FitProgress } from '../nn/fit.js';
import { DEFAULT_CONFIG, runDigitsExperiment, type ExperimentResult, type Phase } from './experiment.js';
import { histogramFigure, reliabilityDiagram } from './svg.js';

const USAGE = `usage: npm start -- [--backend js|wasm|webgpu|auto] [--epochs N] [--seed N] [--out DIR]
  --backend  compute backend (default auto: the runtime's choice for this model size — see createRuntime)
  --epochs   training epochs for each optimizer (default ${DEFAULT_CONFIG.epochs})
  --seed     seed of the split, the init, the minibatch order and IVON's noise (default 0)
  --out      folder for report.json and the SVG figures (default out/)`;

interface Args {
  backend: BackendChoice;
  epochs: number;
  seed: number;
  out: string;
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { backend: 'auto', epochs: DEFAULT_CONFIG.epochs, seed: 0, out: 'out' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') throw new UsageHelp();
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    i++;
    switch (flag) {
      case '--backend':
        if (!['js', 'wasm', 'webgpu', 'auto'].includes(value)) throw new Error(`--backend must be js, wasm, webgpu or auto, got '${value}'`);
        args.backend = value as BackendChoice;
        break;
      case '--epochs':
      case '--seed': {
        const n = Number(value);
        const min = flag === '--epochs' ? 1 : 0;
        if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got '${value}'`);
        if (flag === '--epochs') args.epochs = n;
        else args.seed = n;
        break;
      }
      case '--out':
        args.out = value;
        break;
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  return args;
}

class UsageHelp extends Error {}

/** A one-line progress bar on stderr (redrawn in place on a terminal, one line per phase otherwise). */
function progressBar(): { update: (phase: Phase, p: FitProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let current: Phase | undefined;
  const draw = (phase: Phase, p: FitProgress) => {
    const width = 30;
    const filled = Math.round((p.step / p.totalSteps) * width);
    const line = `${phase.padEnd(18)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] epoch ${String(p.epoch + 1).padStart(3)}/${p.epochs}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toPrecision(3)}`;
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };
  return {
    update(phase, p) {
      const now = performance.now();
      const finished = p.step === p.totalSteps;
      if (phase !== current) {
        if (current !== undefined && tty) process.stderr.write('\n');
        current = phase;
      }
      if (tty ? now - last > 100 || finished : finished) {
        last = now;
        draw(phase, p);
      }
    },
    done() {
      if (tty && current !== undefined) process.stderr.write('\n');
    },
  };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const signed = (v: number, digits: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

/** "+0.0123 [−0.0050, +0.0300]"; accuracy in percentage points. */
function interval(d: DifferenceInterval, points: boolean): string {
  const f = (v: number) => (points ? `${signed(100 * v, 2)} pt` : signed(v, 4));
  return `${f(d.difference)} [${f(d.lower)}, ${f(d.upper)}]`;
}

const METRIC_LABELS = { accuracy: 'accuracy', nll: 'NLL', ece: 'ECE', brier: 'Brier' } as const;

function row(name: string, r: ClassificationReport): string {
  return `| ${name.padEnd(16)} | ${pct(r.accuracy).padStart(8)} | ${r.nll.toFixed(4).padStart(6)} | ${r.ece.toFixed(4).padStart(6)} | ${r.brier.toFixed(4).padStart(6)} |`;
}

export function formatReport(r: ExperimentResult): string {
  const t = r.table;
  const lines = [
    `digits: ${r.data.train} train / ${r.data.test} test, MLP 64-${r.config.hidden}-${r.config.hidden}-10, ${r.config.epochs} epochs, seed ${r.config.seed}, backend ${r.backend}`,
    '',
    `| model            | accuracy |  NLL   |  ECE   | Brier  |`,
    `|------------------|----------|--------|--------|--------|`,
    row('AdamW', t.adamw),
    row('IVON (mean)', t.ivonMean),
    row(`IVON (BMA ${r.config.bmaSamples})`, t.ivonBma),
    '',
    `IVON BMA − AdamW on these ${r.data.test} rows, with 95% paired-bootstrap intervals (an interval holding 0 is a gap this split cannot resolve):`,
    `  ${(Object.keys(METRIC_LABELS) as (keyof typeof METRIC_LABELS)[]).map((m) => `${METRIC_LABELS[m]} ${interval(r.comparison[m], m === 'accuracy')}`).join(', ')}`,
    '',
    `Out-of-distribution: trained on digits 0-${r.config.knownClasses - 1}, digits ${r.config.knownClasses}-9 are unknown (${r.data.oodKnownTest} known / ${r.data.oodUnknownTest} unknown test rows)`,
    '',
    `| model            | known acc | AUROC max-prob | AUROC entropy |`,
    `|------------------|-----------|----------------|---------------|`,
    `| AdamW            | ${pct(r.ood.adamw.accuracy).padStart(9)} | ${r.ood.adamw.maxProb.toFixed(4).padStart(14)} | ${r.ood.adamw.entropy.toFixed(4).padStart(13)} |`,
    `| IVON (BMA ${String(r.config.bmaSamples).padEnd(2)})    | ${pct(r.ood.ivonBma.accuracy).padStart(9)} | ${r.ood.ivonBma.maxProb.toFixed(4).padStart(14)} | ${r.ood.ivonBma.entropy.toFixed(4).padStart(13)} |`,
    `IVON BMA − AdamW AUROC, 95% paired-bootstrap intervals: max-prob ${interval(r.ood.comparison.maxProb, false)}, entropy ${interval(r.ood.comparison.entropy, false)}`,
    ...(r.ood.ivonBma.mutualInformation === undefined
      ? []
      : [`IVON's mutual information (disagreement between posterior samples; AdamW has no posterior): AUROC ${r.ood.ivonBma.mutualInformation.toFixed(4)}`]),
    '',
    `training time (s): ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
  ];
  return lines.join('\n');
}

export function writeFigures(r: ExperimentResult, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const files: [string, string][] = [
    ['report.json', JSON.stringify(r, null, 2)],
    [
      'reliability.svg',
      reliabilityDiagram(
        [
          { title: `AdamW — ECE ${r.table.adamw.ece.toFixed(3)}`, bins: r.reliability.adamw },
          { title: `IVON mean — ECE ${r.table.ivonMean.ece.toFixed(3)}`, bins: r.reliability.ivonMean },
          { title: `IVON BMA ${r.config.bmaSamples} — ECE ${r.table.ivonBma.ece.toFixed(3)}`, bins: r.reliability.ivonBma },
        ],
        `Reliability on the ${r.data.test} digits test rows (20 confidence bins; a calibrated model's bars reach the dashed diagonal)`,
      ),
    ],
    [
      'entropy.svg',
      histogramFigure(
        [
          { title: `AdamW — AUROC ${r.ood.adamw.entropy.toFixed(3)}`, series: [{ label: 'known digits', values: r.entropies.adamw.known }, { label: 'unknown digits', values: r.entropies.adamw.unknown }] },
          { title: `IVON BMA — AUROC ${r.ood.ivonBma.entropy.toFixed(3)}`, series: [{ label: 'known digits', values: r.entropies.ivonBma.known }, { label: 'unknown digits', values: r.entropies.ivonBma.unknown }] },
        ],
        Math.ceil(2 * Math.log(r.config.knownClasses)) / 2, // round ticks; ln 8 ≈ 2.08 is the largest entropy
        'Predictive entropy (nats)',
        `Trained on digits 0-${r.config.knownClasses - 1}; unknown digits should get higher entropy (AUROC of −entropy as the known-class score)`,
      ),
    ],
  ];
  return files.map(([name, text]) => {
    const path = resolve(outDir, name);
    writeFileSync(path, text);
    return path;
  });
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageHelp) {
      console.log(USAGE);
      return;
    }
    console.error(String((error as Error).message));
    process.exitCode = 2;
    return;
  }
  // 'auto': the scheduler decides from the model's size (a 26k-parameter MLP stays on the CPU
  // unless a GPU wins at that size; see gpuMinElements in src/scheduler/defaults.ts).
  const h = DEFAULT_CONFIG.hidden;
  const expectedParams = 64 * h + h + h * h + h + h * 10 + 10;
  const rt = await createRuntime({ backend: args.backend, expectedParams });
  const bar = progressBar();
  try {
    const result = await runDigitsExperiment(rt, { ...DEFAULT_CONFIG, epochs: args.epochs, seed: args.seed }, bar.update);
    bar.done();
    console.log(formatReport(result));
    const files = writeFigures(result, args.out);
    console.log(`\nwrote ${files.join(', ')}`);
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
