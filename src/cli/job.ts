// The main job without its command line, so the end-to-end test runs the very code `npm start`
// runs: per seed, the digits split into train and test rows, then every part on that seed; then
// each part's tables, claims and figures over all seeds. Every number follows from the seeds.
import type { Runtime } from '../index.js';
import type { FitProgress } from '../nn/fit.js';
import { DEFAULT_CONFIG, type MainJobConfig } from './config.js';
import { featuresOf, loadDigits, trainTestSplit, type LabelledSet } from './digits.js';
import { baselinePart, baselineSeed, shiftPart, type BaselineSeed } from './parts/baseline.js';
import type { MainJobReport, PartResult } from './report.js';
import { jobContext } from './train.js';

export interface SeedData {
  seed: number;
  train: LabelledSet;
  test: LabelledSet;
  features: number;
}

export type DataSource = () => LabelledSet;

export async function runMainJob(
  rt: Runtime,
  config: MainJobConfig = DEFAULT_CONFIG,
  onProgress: (phase: string, p: FitProgress) => void = () => {},
  data: DataSource = loadDigits,
): Promise<MainJobReport> {
  if (config.seeds.length === 0) throw new Error('runMainJob: give at least one seed');
  const t0 = performance.now();
  const ctx = jobContext(rt, config, onProgress);
  const all = data();
  const baseline: BaselineSeed[] = [];
  let baselineSeconds = 0;
  for (const seed of config.seeds) {
    const { train, test } = trainTestSplit(all, config.testFraction, seed);
    const seedData: SeedData = { seed, train, test, features: featuresOf(all) };
    const t = performance.now();
    baseline.push(await baselineSeed(ctx, seedData));
    baselineSeconds += (performance.now() - t) / 1000;
  }
  const parts: PartResult[] = [baselinePart(ctx, baseline, baselineSeconds), shiftPart(ctx, baseline, 0)];
  return {
    backend: `${rt.backend} (model kernels: ${ctx.ops.kind})`,
    config,
    seeds: config.seeds,
    parts,
    warnings: ctx.warnings,
    seconds: (performance.now() - t0) / 1000,
  };
}
