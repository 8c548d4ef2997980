// The main job without its command line, so the end-to-end test runs the very code `npm start`
// runs: per seed, the digits split into train and test rows, then every part on that seed; then
// each part's tables, claims and figures over all seeds. Every number follows from the seeds.
import type { Runtime } from '../index.js';
import type { FitProgress } from '../nn/fit.js';
import { DEFAULT_CONFIG, PART_IDS, type MainJobConfig } from './config.js';
import { featuresOf, loadDigits, trainTestSplit, type LabelledSet } from './digits.js';
import { baselinePart, baselineSeed, shiftPart, type BaselineSeed } from './parts/baseline.js';
import { mergingPart, mergingSeed, type MergingSeed } from './parts/merging.js';
import { mislabelledPart, mislabelledSeed, type MislabelledSeed } from './parts/mislabelled.js';
import { noValidationPart, noValidationSeed, type NoValidationSeed } from './parts/no-validation.js';
import type { MainJobReport, PartResult } from './report.js';
import { jobContext } from './train.js';

export interface SeedData {
  seed: number;
  train: LabelledSet;
  test: LabelledSet;
  features: number;
}

export type DataSource = () => LabelledSet;

/** User + system CPU time of this process since `start` (worker threads included), in seconds. */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

export async function runMainJob(
  rt: Runtime,
  config: MainJobConfig = DEFAULT_CONFIG,
  onProgress: (phase: string, p: FitProgress) => void = () => {},
  data: DataSource = loadDigits,
): Promise<MainJobReport> {
  if (config.seeds.length === 0) throw new Error('runMainJob: give at least one seed');
  const unknown = config.parts.filter((p) => !(PART_IDS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`runMainJob: unknown part(s) ${unknown.join(', ')}; the parts are ${PART_IDS.join(', ')}`);
  const wanted = new Set(config.parts);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ctx = jobContext(rt, config, onProgress);
  const all = data();
  const seeds = { baseline: [] as BaselineSeed[], noValidation: [] as NoValidationSeed[], mislabelled: [] as MislabelledSeed[], merging: [] as MergingSeed[] };
  const seconds = { baseline: 0, noValidation: 0, mislabelled: 0, merging: 0 };
  const timed = async <T>(key: keyof typeof seconds, work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const result = await work();
    seconds[key] += (performance.now() - t) / 1000;
    return result;
  };
  for (const seed of config.seeds) {
    const { train, test } = trainTestSplit(all, config.testFraction, seed);
    const seedData: SeedData = { seed, train, test, features: featuresOf(all) };
    const base = await timed('baseline', () => baselineSeed(ctx, seedData));
    seeds.baseline.push(base);
    if (wanted.has('no-validation')) seeds.noValidation.push(await timed('noValidation', () => noValidationSeed(ctx, seedData, base)));
    if (wanted.has('mislabelled')) seeds.mislabelled.push(await timed('mislabelled', () => mislabelledSeed(ctx, seedData, base)));
    if (wanted.has('merging')) seeds.merging.push(await timed('merging', () => mergingSeed(ctx, seedData, base.chosen)));
  }
  const parts: PartResult[] = [baselinePart(ctx, seeds.baseline, seconds.baseline)];
  if (wanted.has('no-validation')) parts.push(noValidationPart(ctx, seeds.noValidation, seconds.noValidation));
  if (wanted.has('mislabelled')) parts.push(mislabelledPart(ctx, seeds.mislabelled, seconds.mislabelled));
  if (wanted.has('merging')) parts.push(mergingPart(ctx, seeds.merging, seconds.merging));
  if (wanted.has('shift')) parts.push(shiftPart(ctx, seeds.baseline, 0));
  return {
    backend: `${rt.backend} (model kernels: ${ctx.ops.kind})`,
    config,
    seeds: config.seeds,
    parts,
    warnings: ctx.warnings,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuSecondsSince(cpu0),
  };
}
