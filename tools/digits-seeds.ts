// The main job's fair baseline (part 1) and shifted inputs (part 5) over a seed range, one line
// per seed, then the pooled verdicts: the command behind claims about many seeds, and one call per
// point of an IVON sweep (`--ivon` overrides every IVON grid point's settings). It calls runMainJob
// itself, so every number is the main job's.
//
//   npx tsx tools/digits-seeds.ts [--seeds 0-9] [--ivon '{"lr":0.3,"hessInit":0.5}'] [--backend wasm]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createRuntime, type BackendChoice } from '../src/index.js';
import { DEFAULT_CONFIG, type IvonSetting, type MainJobConfig } from '../src/cli/config.js';
import { runMainJob } from '../src/cli/job.js';
import { parseSeeds } from '../src/cli/main.js';
import { verdictLine } from '../src/cli/verdict.js';

export { parseSeeds };

/** The IVON grid with `json`'s overrides applied to every point; only IvonSetting's keys, numbers. */
export function ivonSettings(json: string | undefined): IvonSetting[] {
  if (json === undefined) return DEFAULT_CONFIG.grids.ivon;
  const overrides: unknown = JSON.parse(json);
  if (overrides === null || typeof overrides !== 'object') throw new Error(`--ivon must be a JSON object, got ${json}`);
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_CONFIG.ivonDefault)) throw new Error(`--ivon: unknown setting '${key}'; known: ${Object.keys(DEFAULT_CONFIG.ivonDefault).join(', ')}`);
    if (typeof value !== 'number') throw new Error(`--ivon: '${key}' must be a number, got ${JSON.stringify(value)}`);
  }
  return DEFAULT_CONFIG.grids.ivon.map((s) => ({ ...s, ...(overrides as Partial<IvonSetting>) }));
}

interface PerSeed {
  seed: number;
  adamw: { accuracy: number; nll: number; ece: number };
  ivonBma: { accuracy: number; nll: number; ece: number };
  chosen: { adamw: unknown; ivon: unknown };
  health: { meanHessRatio: number };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { seeds: { type: 'string', default: '0-4' }, ivon: { type: 'string' }, backend: { type: 'string', default: 'wasm' } } });
  const ivon = ivonSettings(values.ivon);
  const config: MainJobConfig = { ...DEFAULT_CONFIG, seeds: parseSeeds(values.seeds), parts: ['baseline', 'shift'], grids: { ...DEFAULT_CONFIG.grids, ivon } };
  const rt = await createRuntime({ backend: values.backend as BackendChoice });
  try {
    console.log(`IVON grid ${JSON.stringify(ivon)}; AdamW grid ${JSON.stringify(config.grids.adamw)}; backend ${rt.backend}`);
    const report = await runMainJob(rt, config);
    const f4 = (v: number) => v.toFixed(4);
    for (const s of report.parts[0].data.perSeed as PerSeed[]) {
      console.log(
        `seed ${s.seed} | acc ${(100 * s.ivonBma.accuracy).toFixed(2)} vs ${(100 * s.adamw.accuracy).toFixed(2)} | NLL ${f4(s.ivonBma.nll)} vs ${f4(s.adamw.nll)} | ECE ${f4(s.ivonBma.ece)} vs ${f4(s.adamw.ece)} | ` +
          `chosen IVON ${JSON.stringify(s.chosen.ivon)} AdamW ${JSON.stringify(s.chosen.adamw)} | mean h/h₀ ${s.health.meanHessRatio.toFixed(3)}`,
      );
    }
    console.log(`pooled over ${config.seeds.length} seeds:`);
    for (const p of report.parts) for (const c of p.claims) console.log(verdictLine(c));
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
