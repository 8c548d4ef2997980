// The vendored digits data set (data/digits.csv.gz: 1797 rows of 64 pixels 0..16 and a label;
// see data/README.md for its attribution) and the seeded splits and perturbed copies the main job
// uses: a validation split carved from the training rows, Gaussian pixel noise (sensor noise), a
// one-pixel translation, and a known fraction of flipped labels.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { permutation, Rng } from '../nn/random.js';

export const DIGITS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../data/digits.csv.gz');
export const PIXELS = 64;

export interface LabelledSet {
  /** rows × 64, pixels scaled to [0, 1]. */
  x: Float32Array;
  labels: Int32Array;
  rows: number;
}

export function loadDigits(path = DIGITS_PATH): LabelledSet {
  const text = gunzipSync(readFileSync(path)).toString('utf8').trim();
  const lines = text.split('\n');
  const x = new Float32Array(lines.length * PIXELS);
  const labels = new Int32Array(lines.length);
  lines.forEach((line, r) => {
    const cells = line.split(',');
    if (cells.length !== PIXELS + 1) throw new Error(`${path}: line ${r + 1} has ${cells.length} fields, expected ${PIXELS + 1}`);
    for (let j = 0; j < PIXELS; j++) x[r * PIXELS + j] = Number(cells[j]) / 16;
    labels[r] = Number(cells[PIXELS]);
  });
  return { x, labels, rows: lines.length };
}

/** Values per row of `set` (64 for the digits, 784 for MNIST). */
export function featuresOf(set: LabelledSet): number {
  return set.x.length / set.rows;
}

/** The rows of `set` at `indices`, in that order. */
export function subset(set: LabelledSet, indices: ArrayLike<number>): LabelledSet {
  const width = featuresOf(set);
  const rows = indices.length;
  const x = new Float32Array(rows * width);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const r = indices[i];
    x.set(set.x.subarray(r * width, (r + 1) * width), i * width);
    labels[i] = set.labels[r];
  }
  return { x, labels, rows };
}

/** Seeded random split: `testFraction` of the rows for testing. */
export function trainTestSplit(set: LabelledSet, testFraction: number, seed: number): { train: LabelledSet; test: LabelledSet } {
  const order = permutation(set.rows, new Rng(seed));
  const nTest = Math.round(set.rows * testFraction);
  return { test: subset(set, order.subarray(0, nTest)), train: subset(set, order.subarray(nTest)) };
}

/** Rows whose label satisfies `keep`. */
export function filterLabels(set: LabelledSet, keep: (label: number) => boolean): LabelledSet {
  const idx: number[] = [];
  for (let i = 0; i < set.rows; i++) if (keep(set.labels[i])) idx.push(i);
  return subset(set, idx);
}

/** Seeded split of the training rows into the rows that train and a validation split (never the test rows). */
export function carveValidation(train: LabelledSet, validationFraction: number, seed: number): { fit: LabelledSet; validation: LabelledSet } {
  if (!(validationFraction > 0 && validationFraction < 1)) throw new Error(`carveValidation: validationFraction must be in (0, 1), got ${validationFraction}`);
  // A seed stream apart from the train/test split's, so the validation rows are not the test rows' neighbours in order.
  const { train: fitRows, test: validation } = trainTestSplit(train, validationFraction, seed + 7919);
  return { fit: fitRows, validation };
}

/** A copy with seeded Gaussian pixel noise x + N(0, std²), clipped to [0, 1] (sensor noise on a device). */
export function withPixelNoise(set: LabelledSet, std: number, seed: number): LabelledSet {
  if (!(std >= 0)) throw new Error(`withPixelNoise: std must be ≥ 0, got ${std}`);
  const rng = new Rng(seed);
  const x = set.x.map((v) => Math.min(1, Math.max(0, v + std * rng.normal())));
  return { x, labels: set.labels.slice(), rows: set.rows };
}

/** A copy of square images shifted by (dx, dy) pixels (right and down positive), zero-filled. */
export function translated(set: LabelledSet, dx: number, dy: number): LabelledSet {
  const width = featuresOf(set);
  const side = Math.round(Math.sqrt(width));
  if (side * side !== width) throw new Error(`translated: rows of ${width} values are not square images`);
  const x = new Float32Array(set.x.length);
  for (let r = 0; r < set.rows; r++) {
    const o = r * width;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const si = i - dy;
        const sj = j - dx;
        if (si >= 0 && si < side && sj >= 0 && sj < side) x[o + i * side + j] = set.x[o + si * side + sj];
      }
    }
  }
  return { x, labels: set.labels.slice(), rows: set.rows };
}

/**
 * A copy whose labels at a seeded `fraction` of the rows are replaced by a different class, chosen
 * uniformly; returns the copy and which rows were flipped.
 */
export function flipLabels(set: LabelledSet, fraction: number, classes: number, seed: number): { set: LabelledSet; flipped: Uint8Array } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`flipLabels: fraction must be in (0, 1), got ${fraction}`);
  const rng = new Rng(seed + 104729);
  const order = permutation(set.rows, rng);
  const count = Math.round(fraction * set.rows);
  const labels = set.labels.slice();
  const flipped = new Uint8Array(set.rows);
  for (let i = 0; i < count; i++) {
    const r = order[i];
    labels[r] = (labels[r] + 1 + rng.below(classes - 1)) % classes;
    flipped[r] = 1;
  }
  return { set: { x: set.x, labels, rows: set.rows }, flipped };
}
