// The main job's settings in one place: the model, the training budget, and the two equal-size
// grids from which each optimizer's settings are chosen on a validation split carved from the
// training rows (never the test rows). The rule is the same for both: every grid point (8 each)
// trains for the same epochs on the same rows, the lowest validation NLL wins (AdamW at its
// weights, IVON by its Bayesian model average, as each is then scored), and the winner is
// retrained on all the training rows. AdamW's grid spans lr and weight decay; IVON's spans lr and
// the two settings that decide whether its curvature is learned: β₂ in 0.999–0.9999 and ess·δ in
// 10–100 (IVON.md §8), with h₀ 1 and ess 10·N fixed.

export interface AdamwSetting {
  lr: number;
  weightDecay: number;
}

export interface IvonSetting {
  lr: number;
  hessInit: number;
  beta2: number;
  /** ess = essFactor · training rows (tempering: > 1 sharpens the posterior of a small set). */
  essFactor: number;
  /** ess · weightDecay: the prior's precision in data units (weightDecay = essTimesDelta / ess). */
  essTimesDelta: number;
}

/** The parts of the job; part 1 always runs (the others use its chosen settings and models). */
export const PART_IDS = ['baseline', 'no-validation', 'mislabelled', 'merging', 'shift'] as const;
export type PartId = (typeof PART_IDS)[number];

export interface MainJobConfig {
  seeds: number[];
  /** Which parts to run and report (default all). */
  parts: PartId[];
  epochs: number;
  batchSize: number;
  /** Hidden layer widths of the MLP, and its activation. */
  hidden: number[];
  activation: 'relu' | 'tanh';
  bmaSamples: number;
  testFraction: number;
  /** Share of the training rows held out to choose settings (part 1) and AdamW's stopping epoch (part 2). */
  validationFraction: number;
  warmupFraction: number;
  grids: { adamw: AdamwSetting[]; ivon: IvonSetting[] };
  /** The IVON setting the job starts from; also the library-facing "stable default" (trained 2× and 4× longer in the tests). */
  ivonDefault: IvonSetting;
  /** Part 2: prior precisions (ess·δ) IVON chooses among by leave-one-out; AdamW chooses among the weight decays of its grid. */
  looPriorChoices: number[];
  /** Part 3: share of training labels flipped, and how many rows the precision-at-k and the image grid show. */
  flipFraction: number;
  topK: number;
  /** Part 5: std of the Gaussian pixel noise; classes 0..knownClasses−1 are known in the OOD check. */
  noiseStd: number;
  knownClasses: number;
  /** Part 4: share of the training rows the shared base model trains on; the rest is split by class between two devices. */
  baseFraction: number;
  /** Part 4: classes of device A (device B gets the others). */
  deviceAClasses: number[];
  bootstrapResamples: number;
}

export const IVON_DEFAULT: IvonSetting = { lr: 0.2, hessInit: 1, beta2: 0.9999, essFactor: 10, essTimesDelta: 10 };

function grid<A, B, T>(as: A[], bs: B[], make: (a: A, b: B) => T): T[] {
  return as.flatMap((a) => bs.map((b) => make(a, b)));
}

export const DEFAULT_CONFIG: MainJobConfig = {
  seeds: [0, 1],
  parts: [...PART_IDS],
  epochs: 40,
  batchSize: 32,
  hidden: [128, 128],
  activation: 'relu',
  bmaSamples: 32,
  testFraction: 0.2,
  validationFraction: 0.2,
  warmupFraction: 0.05,
  grids: {
    adamw: grid([1e-3, 2e-3, 5e-3, 1e-2], [1e-2, 1e-1], (lr, weightDecay) => ({ lr, weightDecay })),
    ivon: grid([0.2, 0.5], [0.999, 0.9999], (lr, beta2) => ({ ...IVON_DEFAULT, lr, beta2 })).flatMap((s) => [10, 100].map((essTimesDelta) => ({ ...s, essTimesDelta }))),
  },
  ivonDefault: IVON_DEFAULT,
  looPriorChoices: [3, 10, 30, 100],
  flipFraction: 0.05,
  topK: 24,
  noiseStd: 0.25,
  knownClasses: 8,
  baseFraction: 0.3,
  deviceAClasses: [0, 1, 2, 3, 4],
  bootstrapResamples: 2000,
};

/**
 * A configuration small enough for the tests to run every part on every backend (webgpu through a
 * software adapter is slow): one seed, few epochs, two-point grids, fewer posterior samples.
 */
export const REDUCED_CONFIG: MainJobConfig = {
  ...DEFAULT_CONFIG,
  seeds: [0],
  epochs: 4,
  bmaSamples: 4,
  grids: { adamw: DEFAULT_CONFIG.grids.adamw.slice(0, 2), ivon: DEFAULT_CONFIG.grids.ivon.slice(0, 2) },
  looPriorChoices: [10, 100],
  bootstrapResamples: 200,
};
