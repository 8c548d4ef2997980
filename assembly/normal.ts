// Standard normals from Philox words (docs/KERNELS.md §1): Box–Muller with a vectorised Cephes
// logf and a quadrant-reduced cos/sin of 2πu, every step one float32 rounding and no fma, so the
// bits equal the Math.fround reference (src/kernels/normal.ts). normalsTo() writes the 16 normals
// of a 16-aligned element group, normalsTo2() 32; ranges that start or end inside a group read
// single lanes from a one-group cache (normalAt) that the very same vector code fills.
// Speed: the chains (two per group) are written step by step across chains, so each table constant
// is loaded once per step (binaryen merges the loads, V8 keeps one register) and the dependent
// chains sit side by side in V8's instruction order, where the out-of-order core overlaps them:
// written chain after chain, the 9-step log polynomials serialised (fillNormal 265 -> 340 M/s).

import { splatAt } from './constants';
import { laneBlocks, philox4, philox8, PX0, PX1, PX2, PX3, PY0, PY1, PY2, PY3 } from './philox';

// Float constants, by index (constants.ts says why they are a table). A "y*x - c" step of the
// contract is computed as y*x + (-c): IEEE subtraction is addition of the negation, same bits.
const F = memory.data<f32>([
  2.384185791015625e-7, // 0: 2^-22 (u·4 from u·2^24)
  0.70710677, // 1: sqrt(1/2) threshold of logf
  1.0, // 2
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, // 3..7
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1, // 8..11: logf polynomial
  -2.12194440e-4, // 12: ln 2 low part
  0.5, // 13
  0.693359375, // 14: ln 2 high part
  -2.0, // 15
  8388608.0, // 16: 2^23, turns a small integral float into its integer in the low mantissa bits
  1.5707964, // 17: f32(π/2)
  -1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1, // 18..20: sin polynomial
  2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2, // 21..23: cos polynomial
], 16);
// 150 = 126 + 24: the exponent bias of u read from the bits of k = u·2^24 (see logExponent).
const I = memory.data<i32>([1, 150, 0x7fffff, 0x3f000000], 16);

// The 16 normals of the cached group: Zj lane l is element 16·group + 4j + l; Z4..Z7 likewise
// hold the next group when nextCached (normalsToCache computes two groups at once).
let Z0: v128 = i32x4(0, 0, 0, 0);
let Z1: v128 = i32x4(0, 0, 0, 0);
let Z2: v128 = i32x4(0, 0, 0, 0);
let Z3: v128 = i32x4(0, 0, 0, 0);
let Z4: v128 = i32x4(0, 0, 0, 0);
let Z5: v128 = i32x4(0, 0, 0, 0);
let Z6: v128 = i32x4(0, 0, 0, 0);
let Z7: v128 = i32x4(0, 0, 0, 0);
// Which group Z0..Z3 hold; -1 = none. Kernels reset it on entry since their keys may differ.
let cachedGroup: i64 = -1;
let nextCached = false;

/**
 * k = f32((x >>> 8) | 1) = u(x)·2^24, an integer in [1, 2^24), exact. The kernels work on k: scaling
 * by a power of two only moves the exponent, so ln and 4u read from k give u's bits, one multiply less.
 */
// @ts-ignore: decorator
@inline function scaledUniformV(x: v128): v128 {
  return f32x4.convert_i32x4_s(v128.or(i32x4.shr_u(x, 8), splatAt(I, 0)));
}

/** y·x + c. */
// @ts-ignore: decorator
@inline function madd(y: v128, x: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(y, x), c);
}

/** logf's e before the f < sqrt(1/2) fix-up: u's biased exponent - 126 = k's biased exponent - 150. */
// @ts-ignore: decorator
@inline function logExponent(k: v128): v128 {
  return i32x4.sub(i32x4.shr_u(k, 23), splatAt(I, 1));
}

/** logf's f: the mantissa of k (= u's) in [0.5, 1). */
// @ts-ignore: decorator
@inline function logMantissa(k: v128): v128 {
  return v128.or(v128.and(k, splatAt(I, 2)), splatAt(I, 3));
}

/** x = small ? (f + f) - 1 : f - 1. */
// @ts-ignore: decorator
@inline function logReduced(f: v128, small: v128): v128 {
  return f32x4.sub(f32x4.add(f, v128.and(f, small)), splatAt(F, 2));
}

/** sqrt(-2 · ln) from the polynomial y (after its last madd), x, z = x², the exponent fe. */
// @ts-ignore: decorator
@inline function logRadius(y: v128, x: v128, z: v128, fe: v128): v128 {
  let w = f32x4.mul(f32x4.mul(y, x), z);
  w = f32x4.add(w, f32x4.mul(fe, splatAt(F, 12)));
  w = f32x4.sub(w, f32x4.mul(splatAt(F, 13), z));
  const ln = f32x4.add(f32x4.add(x, w), f32x4.mul(fe, splatAt(F, 14)));
  return f32x4.sqrt(f32x4.mul(splatAt(F, 15), ln));
}

/** cossin2pi's t = u·4 = k·2^-22, exact; then q = floor(t + 0.5) and a = (t - q)·π/2. */
// @ts-ignore: decorator
@inline function quarterTurns(x: v128): v128 {
  return f32x4.mul(scaledUniformV(x), splatAt(F, 0));
}

// @ts-ignore: decorator
@inline function quadrantOf(t: v128): v128 {
  return f32x4.floor(f32x4.add(t, splatAt(F, 13)));
}

// @ts-ignore: decorator
@inline function reducedAngle(t: v128, q: v128): v128 {
  return f32x4.mul(f32x4.sub(t, q), splatAt(F, 17));
}

/** s = (s·z)·a + a, the sine's last step. */
// @ts-ignore: decorator
@inline function sineLast(s: v128, z: v128, a: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.mul(s, z), a), a);
}

/** c = ((c·z)·z - 0.5·z) + 1, the cosine's last step. */
// @ts-ignore: decorator
@inline function cosineLast(c: v128, z: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.mul(f32x4.mul(c, z), z), f32x4.mul(splatAt(F, 13), z)), splatAt(F, 2));
}

/**
 * Quadrant q & 3: 0 -> (c, s), 1 -> (-s, c), 2 -> (-c, -s), 3 -> (s, -c). Odd quadrants swap;
 * sin flips sign where bit 1 of q is set, cos where bit 0 xor bit 1 is. Then (r·cos, r·sin) go to
 * dst and dst + 16 bytes, or when toCache to the cache pair `slot`: (Z0, Z1), (Z2, Z3), (Z4, Z5), (Z6, Z7).
 */
// @ts-ignore: decorator
@inline function storePolar(dst: usize, toCache: bool, slot: i32, r: v128, q: v128, s: v128, c: v128): void {
  const qb = f32x4.add(q, splatAt(F, 16)); // q in [0, 4]: its bits end in q
  const half = i32x4.shr_u(qb, 1);
  const swap = i32x4.shr_s(i32x4.shl(qb, 31), 31);
  const diff = v128.and(v128.xor(s, c), swap);
  const cos = v128.xor(v128.xor(c, diff), i32x4.shl(v128.xor(qb, half), 31));
  const sin = v128.xor(v128.xor(s, diff), i32x4.shl(half, 31));
  if (!toCache) {
    v128.store(dst, f32x4.mul(r, cos));
    v128.store(dst, f32x4.mul(r, sin), 16);
  } else if (slot == 0) {
    Z0 = f32x4.mul(r, cos);
    Z1 = f32x4.mul(r, sin);
  } else if (slot == 1) {
    Z2 = f32x4.mul(r, cos);
    Z3 = f32x4.mul(r, sin);
  } else if (slot == 2) {
    Z4 = f32x4.mul(r, cos);
    Z5 = f32x4.mul(r, sin);
  } else {
    Z6 = f32x4.mul(r, cos);
    Z7 = f32x4.mul(r, sin);
  }
}

/**
 * The 32 normals of four Box–Muller chains: chain j takes its radius from word vector rj and its
 * angle from aj, and writes (r·cos, r·sin) at dst + 32·j bytes (to cache slot j when toCache).
 * The polynomial steps stay loops on purpose: written out, binaryen merges all their table loads
 * into long-lived locals and V8 spills them (measured slower); in the loop each constant is loaded
 * where it is used.
 */
// @ts-ignore: decorator
@inline function boxMuller4(dst: usize, toCache: bool, r0: v128, a0: v128, r1: v128, a1: v128, r2: v128, a2: v128, r3: v128, a3: v128): void {
  const k0 = scaledUniformV(r0), k1 = scaledUniformV(r1), k2 = scaledUniformV(r2), k3 = scaledUniformV(r3);
  const f0 = logMantissa(k0), f1 = logMantissa(k1), f2 = logMantissa(k2), f3 = logMantissa(k3);
  const m0 = f32x4.lt(f0, splatAt(F, 1)), m1 = f32x4.lt(f1, splatAt(F, 1));
  const m2 = f32x4.lt(f2, splatAt(F, 1)), m3 = f32x4.lt(f3, splatAt(F, 1));
  const x0 = logReduced(f0, m0), x1 = logReduced(f1, m1), x2 = logReduced(f2, m2), x3 = logReduced(f3, m3);
  const z0 = f32x4.mul(x0, x0), z1 = f32x4.mul(x1, x1), z2 = f32x4.mul(x2, x2), z3 = f32x4.mul(x3, x3);
  let y0 = splatAt(F, 3), y1 = y0, y2 = y0, y3 = y0;
  for (let i = 4; i <= 11; i++) {
    const c = splatAt(F, i);
    y0 = madd(y0, x0, c); y1 = madd(y1, x1, c); y2 = madd(y2, x2, c); y3 = madd(y3, x3, c);
  }
  const e0 = f32x4.convert_i32x4_s(i32x4.add(logExponent(k0), m0));
  const e1 = f32x4.convert_i32x4_s(i32x4.add(logExponent(k1), m1));
  const e2 = f32x4.convert_i32x4_s(i32x4.add(logExponent(k2), m2));
  const e3 = f32x4.convert_i32x4_s(i32x4.add(logExponent(k3), m3));
  const R0 = logRadius(y0, x0, z0, e0), R1 = logRadius(y1, x1, z1, e1);
  const R2 = logRadius(y2, x2, z2, e2), R3 = logRadius(y3, x3, z3, e3);
  const t0 = quarterTurns(a0), t1 = quarterTurns(a1), t2 = quarterTurns(a2), t3 = quarterTurns(a3);
  const q0 = quadrantOf(t0), q1 = quadrantOf(t1), q2 = quadrantOf(t2), q3 = quadrantOf(t3);
  const b0 = reducedAngle(t0, q0), b1 = reducedAngle(t1, q1), b2 = reducedAngle(t2, q2), b3 = reducedAngle(t3, q3);
  const w0 = f32x4.mul(b0, b0), w1 = f32x4.mul(b1, b1), w2 = f32x4.mul(b2, b2), w3 = f32x4.mul(b3, b3);
  let s0 = splatAt(F, 18), s1 = s0, s2 = s0, s3 = s0;
  let c0 = splatAt(F, 21), c1 = c0, c2 = c0, c3 = c0;
  for (let i = 0; i < 2; i++) {
    const cs = splatAt(F, 19 + i);
    s0 = madd(s0, w0, cs); s1 = madd(s1, w1, cs); s2 = madd(s2, w2, cs); s3 = madd(s3, w3, cs);
    const cc = splatAt(F, 22 + i);
    c0 = madd(c0, w0, cc); c1 = madd(c1, w1, cc); c2 = madd(c2, w2, cc); c3 = madd(c3, w3, cc);
  }
  s0 = sineLast(s0, w0, b0); s1 = sineLast(s1, w1, b1); s2 = sineLast(s2, w2, b2); s3 = sineLast(s3, w3, b3);
  c0 = cosineLast(c0, w0); c1 = cosineLast(c1, w1); c2 = cosineLast(c2, w2); c3 = cosineLast(c3, w3);
  storePolar(dst, toCache, 0, R0, q0, s0, c0);
  storePolar(dst + 32, toCache, 1, R1, q1, s1, c1);
  storePolar(dst + 64, toCache, 2, R2, q2, s2, c2);
  storePolar(dst + 96, toCache, 3, R3, q3, s3, c3);
}

/**
 * The 16 normals of two Box–Muller chains (one group): chain j takes its radius from rj and its
 * angle from aj; (r·cos, r·sin) go to dst + 32·j bytes, or to the cache (Z0, Z1), (Z2, Z3).
 */
// @ts-ignore: decorator
@inline function boxMuller2(dst: usize, toCache: bool, r0: v128, a0: v128, r1: v128, a1: v128): void {
  const k0 = scaledUniformV(r0), k1 = scaledUniformV(r1);
  const f0 = logMantissa(k0), f1 = logMantissa(k1);
  const m0 = f32x4.lt(f0, splatAt(F, 1)), m1 = f32x4.lt(f1, splatAt(F, 1));
  const x0 = logReduced(f0, m0), x1 = logReduced(f1, m1);
  const z0 = f32x4.mul(x0, x0), z1 = f32x4.mul(x1, x1);
  let y0 = splatAt(F, 3), y1 = y0;
  for (let i = 4; i <= 11; i++) {
    const c = splatAt(F, i);
    y0 = madd(y0, x0, c); y1 = madd(y1, x1, c);
  }
  const e0 = f32x4.convert_i32x4_s(i32x4.add(logExponent(k0), m0));
  const e1 = f32x4.convert_i32x4_s(i32x4.add(logExponent(k1), m1));
  const R0 = logRadius(y0, x0, z0, e0), R1 = logRadius(y1, x1, z1, e1);
  const t0 = quarterTurns(a0), t1 = quarterTurns(a1);
  const q0 = quadrantOf(t0), q1 = quadrantOf(t1);
  const b0 = reducedAngle(t0, q0), b1 = reducedAngle(t1, q1);
  const w0 = f32x4.mul(b0, b0), w1 = f32x4.mul(b1, b1);
  let s0 = splatAt(F, 18), s1 = s0;
  let c0 = splatAt(F, 21), c1 = c0;
  for (let i = 0; i < 2; i++) {
    const cs = splatAt(F, 19 + i);
    s0 = madd(s0, w0, cs); s1 = madd(s1, w1, cs);
    const cc = splatAt(F, 22 + i);
    c0 = madd(c0, w0, cc); c1 = madd(c1, w1, cc);
  }
  s0 = sineLast(s0, w0, b0); s1 = sineLast(s1, w1, b1);
  c0 = cosineLast(c0, w0); c1 = cosineLast(c1, w1);
  storePolar(dst, toCache, 0, R0, q0, s0, c0);
  storePolar(dst + 32, toCache, 1, R1, q1, s1, c1);
}

/** The 16 normals of elements 16·group .. 16·group + 15, to dst (or to the cache when toCache). */
// @ts-ignore: decorator
@inline function normalGroup(dst: usize, toCache: bool, group: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): void {
  philox4(laneBlocks(group << 2), sample, step, stream, seedLo, seedHi);
  boxMuller2(dst, toCache, PX0, PX1, PX2, PX3);
}

/** Writes z(16·group + k), k = 0..15, to dst[k]. */
// @ts-ignore: decorator
@inline export function normalsTo(dst: usize, group: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): void {
  normalGroup(dst, false, group, sample, step, stream, seedLo, seedHi);
}

/** The normals of groups `group` and `group + 1` (32 elements) to dst, or to the cache Z0..Z7. */
// @ts-ignore: decorator
@inline function normalGroups2(dst: usize, toCache: bool, group: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): void {
  philox8(laneBlocks(group << 2), sample, step, stream, seedLo, seedHi);
  const x0 = PX0, x1 = PX1, x2 = PX2, x3 = PX3;
  const y0 = PY0, y1 = PY1, y2 = PY2, y3 = PY3;
  boxMuller4(dst, toCache, x0, x1, x2, x3, y0, y1, y2, y3);
}

/** Writes the normals of groups `group` and `group + 1` (32 elements) to dst. */
// @ts-ignore: decorator
@inline export function normalsTo2(dst: usize, group: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): void {
  normalGroups2(dst, false, group, sample, step, stream, seedLo, seedHi);
}

/**
 * Puts the 16 normals of `group` into the per-instance cache (wasm globals, so workers sharing one
 * memory never collide); read them with cachedNormals(j), j = 0..3 → elements 16·group + 4j ..
 * Computes `group + 1` alongside (two interleaved Philox chains cost far less than two single
 * ones), so a loop over consecutive groups pays a Philox8 every second call and a copy otherwise.
 */
// @ts-ignore: decorator
@inline export function normalsToCache(group: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): void {
  if (nextCached && <i64>group == cachedGroup + 1) {
    Z0 = Z4;
    Z1 = Z5;
    Z2 = Z6;
    Z3 = Z7;
    nextCached = false;
  } else if (cachedGroup != <i64>group) {
    normalGroups2(0, true, group, sample, step, stream, seedLo, seedHi);
    nextCached = true;
  }
  cachedGroup = <i64>group;
}

// @ts-ignore: decorator
@inline export function cachedNormals(j: i32): v128 {
  return j == 0 ? Z0 : j == 1 ? Z1 : j == 2 ? Z2 : Z3;
}

/** Forgets the cached group; every RNG kernel calls this first (its keys may differ). */
// @ts-ignore: decorator
@inline export function resetNormalCache(): void {
  cachedGroup = -1;
  nextCached = false;
}

/** z(e) for one element, via the one-group cache (for range heads and tails). */
export function normalAt(e: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): f32 {
  const group = e >>> 4;
  if (cachedGroup != <i64>group) {
    normalGroup(0, true, group, sample, step, stream, seedLo, seedHi);
    cachedGroup = <i64>group;
    nextCached = false;
  }
  const j = (e >>> 2) & 3;
  const v = j == 0 ? Z0 : j == 1 ? Z1 : j == 2 ? Z2 : Z3;
  switch (e & 3) {
    case 0: return f32x4.extract_lane(v, 0);
    case 1: return f32x4.extract_lane(v, 1);
    case 2: return f32x4.extract_lane(v, 2);
    default: return f32x4.extract_lane(v, 3);
  }
}

/** out[i] = z(first + i), i < count; `first` may be any element index. */
export function fillNormal(out: usize, count: i32, first: u32, sample: u32, step: u32, stream: u32, seedLo: u32, seedHi: u32): void {
  resetNormalCache();
  let i: i32 = 0;
  for (; i < count && ((first + <u32>i) & 15) != 0; i++) {
    store<f32>(out + (<usize>i << 2), normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi));
  }
  for (; i + 32 <= count; i += 32) {
    normalsTo2(out + (<usize>i << 2), (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
  }
  for (; i + 16 <= count; i += 16) {
    normalsTo(out + (<usize>i << 2), (first + <u32>i) >>> 4, sample, step, stream, seedLo, seedHi);
  }
  for (; i < count; i++) {
    store<f32>(out + (<usize>i << 2), normalAt(first + <u32>i, sample, step, stream, seedLo, seedHi));
  }
}
