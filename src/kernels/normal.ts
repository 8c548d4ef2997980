// Standard normals from the Philox stream (docs/KERNELS.md §1): Box–Muller with a Cephes logf and
// a quadrant-reduced sin/cos, written as single float32 operations (Math.fround after each) so the
// WASM SIMD kernels can reproduce every bit. Math.log/Math.cos would be more accurate but not
// reproducible by the other backends.

import { philox4x32Into } from './philox.js';

const f = Math.fround;
const TWO_POW_MINUS_24 = f(5.9604644775390625e-8);
const HALF_PI = f(1.5707963267948966);
const SQRT_HALF = f(0.70710677);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** u(x) = ((x >>> 8) | 1) * 2^-24, in (0, 1). */
export function uniformOf(bits: number): number {
  return f(((bits >>> 8) | 1) * TWO_POW_MINUS_24);
}

/** Natural log of a positive normal float32, Cephes logf evaluated in float32. */
export function logf(u: number): number {
  scratchF32[0] = u;
  const bits = scratchU32[0];
  let exponent = ((bits >>> 23) & 0xff) - 126;
  scratchU32[0] = (bits & 0x7fffff) | 0x3f000000;
  const mantissa = scratchF32[0];
  let x: number;
  if (mantissa < SQRT_HALF) {
    exponent -= 1;
    x = f(f(mantissa + mantissa) - 1);
  } else {
    x = f(mantissa - 1);
  }
  const z = f(x * x);
  let y = LOG_P[0];
  for (let i = 1; i < LOG_P.length; i++) y = f(f(y * x) + LOG_P[i]);
  y = f(f(y * x) * z);
  const fe = f(exponent);
  y = f(y + f(fe * LOG_Q1));
  y = f(y - f(0.5 * z));
  return f(f(x + y) + f(fe * LOG_Q2));
}

/** (cos 2πu, sin 2πu) for u in (0, 1), float32. */
export function cossin2pi(u: number): [number, number] {
  const t = f(u * 4);
  const q = Math.floor(f(t + 0.5));
  const x = f(f(t - q) * HALF_PI);
  const z = f(x * x);
  let s = SIN_P[0];
  s = f(f(s * z) + SIN_P[1]);
  s = f(f(s * z) + SIN_P[2]);
  s = f(f(f(s * z) * x) + x);
  let c = COS_P[0];
  c = f(f(c * z) + COS_P[1]);
  c = f(f(c * z) + COS_P[2]);
  c = f(f(f(f(c * z) * z) - f(0.5 * z)) + 1);
  switch (q & 3) {
    case 0:
      return [c, s];
    case 1:
      return [-s, c];
    case 2:
      return [-c, -s];
    default:
      return [s, -c];
  }
}

/** The Philox block and output lane that feed global element e. */
export function blockOfElement(e: number): { block: number; lane: number } {
  return { block: (((e >>> 4) << 2) | (e & 3)) >>> 0, lane: (e >>> 2) & 3 };
}

const bitsScratch = new Uint32Array(4);

/** The four normals of one Philox block, in output order z0..z3. */
export function normalsOfBlock(
  out: Float32Array,
  at: number,
  block: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
): void {
  philox4x32Into(bitsScratch, 0, block, sample, step, stream, seedLo, seedHi);
  const r01 = f(Math.sqrt(f(-2 * logf(uniformOf(bitsScratch[0])))));
  const [c01, s01] = cossin2pi(uniformOf(bitsScratch[1]));
  const r23 = f(Math.sqrt(f(-2 * logf(uniformOf(bitsScratch[2])))));
  const [c23, s23] = cossin2pi(uniformOf(bitsScratch[3]));
  out[at] = f(r01 * c01);
  out[at + 1] = f(r01 * s01);
  out[at + 2] = f(r23 * c23);
  out[at + 3] = f(r23 * s23);
}

const blockScratch = new Float32Array(4);

/** The normal of a single global element e. */
export function normalAt(e: number, sample: number, step: number, stream: number, seedLo: number, seedHi: number): number {
  const { block, lane } = blockOfElement(e);
  normalsOfBlock(blockScratch, 0, block, sample, step, stream, seedLo, seedHi);
  return blockScratch[lane];
}

/**
 * Kernel `fillNormal`: out[i] = z(first + i). Walks whole 16-element chunks so each Philox block
 * is evaluated once.
 */
export function fillNormal(
  out: Float32Array,
  count: number,
  first: number,
  sample: number,
  step: number,
  stream: number,
  seedLo: number,
  seedHi: number,
): void {
  const chunk = new Float32Array(16);
  const end = first + count;
  let chunkStart = first - (first & 15);
  for (; chunkStart < end; chunkStart += 16) {
    for (let lane = 0; lane < 4; lane++) {
      const block = (((chunkStart >>> 4) << 2) | lane) >>> 0;
      normalsOfBlock(blockScratch, 0, block, sample, step, stream, seedLo, seedHi);
      for (let j = 0; j < 4; j++) chunk[4 * j + lane] = blockScratch[j];
    }
    const from = Math.max(chunkStart, first);
    const to = Math.min(chunkStart + 16, end);
    for (let e = from; e < to; e++) out[e - first] = chunk[e - chunkStart];
  }
}
