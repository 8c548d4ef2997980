// The vendored digits data set (data/digits.csv.gz: 1797 rows of 64 pixels 0..16 and a label;
// see data/README.md for its attribution) and the seeded splits the main job uses.
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

/** The rows of `set` at `indices`, in that order. */
export function subset(set: LabelledSet, indices: ArrayLike<number>): LabelledSet {
  const rows = indices.length;
  const x = new Float32Array(rows * PIXELS);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const r = indices[i];
    x.set(set.x.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
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
