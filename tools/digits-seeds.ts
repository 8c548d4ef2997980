// The main job's experiment over many seeds: one 359-row test split cannot rank AdamW and IVON
// (the main job prints bootstrap intervals that hold 0), so claims about the defaults rest on the
// mean and the win count over seeds, and this is the command that measures them. An IVON setting
// other than the default can be given as JSON, which is how a hyper-parameter sweep is run: one
// call per setting. It calls runDigitsExperiment itself, so every number is the main job's.
//
//   npx tsx tools/digits-seeds.ts [--seeds 0-9] [--ivon '{"lr":0.3,"essFactor":2}'] [--backend wasm]
//
// Prints one line per seed (IVON BMA − AdamW with 95% intervals, OOD AUROCs) and the means.
import { pathToFileURL } from 'node:url';
import { createRuntime, type BackendChoice } from '../src/index.js';
import { DEFAULT_CONFIG, runDigitsExperiment, type ExperimentConfig, type ExperimentResult } from '../src/cli/experiment.js';

/** "0-9" or "0,2,5" → seeds. */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  const seeds = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : text.split(',').map(Number);
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new Error(`--seeds must look like 0-9 or 0,2,5, got '${text}'`);
  return seeds;
}

/** The IVON settings with `json`'s overrides; only the keys ExperimentConfig['ivon'] has. */
export function ivonSettings(json: string | undefined): ExperimentConfig['ivon'] {
  if (json === undefined) return DEFAULT_CONFIG.ivon;
  const overrides: unknown = JSON.parse(json);
  if (overrides === null || typeof overrides !== 'object') throw new Error(`--ivon must be a JSON object, got ${json}`);
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_CONFIG.ivon)) throw new Error(`--ivon: unknown setting '${key}'; known: ${Object.keys(DEFAULT_CONFIG.ivon).join(', ')}`);
    if (typeof value !== 'number') throw new Error(`--ivon: '${key}' must be a number, got ${JSON.stringify(value)}`);
  }
  return { ...DEFAULT_CONFIG.ivon, ...(overrides as Partial<ExperimentConfig['ivon']>) };
}

const f4 = (v: number) => v.toFixed(4);
const withInterval = (d: { difference: number; lower: number; upper: number }) => `${f4(d.difference)} [${f4(d.lower)}, ${f4(d.upper)}]`;

function seedLine(r: ExperimentResult): string {
  const { adamw, ivonBma } = r.table;
  return [
    `seed ${r.config.seed}`,
    `acc ${(100 * ivonBma.accuracy).toFixed(2)} vs ${(100 * adamw.accuracy).toFixed(2)}`,
    `ΔNLL ${withInterval(r.comparison.nll)}`,
    `ΔECE ${withInterval(r.comparison.ece)}`,
    `OOD max-prob ${f4(r.ood.ivonBma.maxProb)} vs ${f4(r.ood.adamw.maxProb)}`,
    `IVON wins NLL and ECE: ${ivonBma.nll < adamw.nll && ivonBma.ece < adamw.ece ? 'yes' : 'no'}`,
  ].join(' | ');
}

function summary(results: ExperimentResult[]): string {
  const mean = (pick: (r: ExperimentResult) => number) => results.reduce((s, r) => s + pick(r), 0) / results.length;
  const count = (pred: (r: ExperimentResult) => boolean) => results.filter(pred).length;
  const n = results.length;
  const line = (name: string, key: 'adamw' | 'ivonBma') =>
    `${name.padEnd(9)} acc ${(100 * mean((r) => r.table[key].accuracy)).toFixed(2)}%  NLL ${f4(mean((r) => r.table[key].nll))}  ECE ${f4(mean((r) => r.table[key].ece))}  Brier ${f4(mean((r) => r.table[key].brier))}  OOD AUROC max-prob ${f4(mean((r) => r.ood[key].maxProb))} entropy ${f4(mean((r) => r.ood[key].entropy))}`;
  return [
    `means over ${n} seeds:`,
    line('AdamW', 'adamw'),
    line('IVON BMA', 'ivonBma'),
    `IVON BMA better on NLL: ${count((r) => r.table.ivonBma.nll < r.table.adamw.nll)}/${n}, ECE: ${count((r) => r.table.ivonBma.ece < r.table.adamw.ece)}/${n}, both: ${count((r) => r.table.ivonBma.nll < r.table.adamw.nll && r.table.ivonBma.ece < r.table.adamw.ece)}/${n}; OOD max-prob AUROC higher for AdamW: ${count((r) => r.ood.adamw.maxProb > r.ood.ivonBma.maxProb)}/${n}`,
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seeds = parseSeeds(value('--seeds') ?? '0-4');
  const ivon = ivonSettings(value('--ivon'));
  const rt = await createRuntime({ backend: (value('--backend') ?? 'wasm') as BackendChoice });
  try {
    console.log(`IVON ${JSON.stringify(ivon)}; AdamW ${JSON.stringify(DEFAULT_CONFIG.adamw)}; backend ${rt.backend}`);
    const results: ExperimentResult[] = [];
    for (const seed of seeds) {
      const r = await runDigitsExperiment(rt, { ...DEFAULT_CONFIG, seed, ivon });
      console.log(seedLine(r));
      results.push(r);
    }
    console.log(summary(results));
  } finally {
    await rt.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
