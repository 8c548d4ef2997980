// Philox4x32-10 (docs/KERNELS.md §1) for 4 consecutive blocks at once, one block per i32x4 lane,
// so the 16 elements of a 16-aligned group come out of one call with no transpose. WASM SIMD has
// no 32-bit mulhi: i64x2.extmul_low/high give the full 64-bit products of lanes 0-1 and 2-3, and
// one 2-input shuffle gathers their high halves (V8 lowers it to one shufps); i32x4.mul gives the
// low halves (measured: a second shufps instead was slower). The ten rounds are written out: as a
// loop, V8 spent a stack check, a counter and eight register moves per round (fillNormal +4-5%).
// The first two rounds take the products of the words all four lanes share as scalars (mulhiScalar).

import { splatAt } from './constants';

// M0, M1 (multipliers), W0, W1 (Weyl key bumps): scalars for the first two rounds, and in memory
// for the vector rounds (constants.ts says why).
const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const PHILOX = memory.data<u32>([M0, M1, W0, W1, 4], 16);
const LANE_INDEX = memory.data<u32>([0, 1, 2, 3], 16);

// The 4 output words of the last philox4() call, one vector per word (lane l holds block c0 + l).
// Module globals live in the instance, not the memory: workers sharing one memory never race.
export let PX0: v128 = i32x4(0, 0, 0, 0);
export let PX1: v128 = i32x4(0, 0, 0, 0);
export let PX2: v128 = i32x4(0, 0, 0, 0);
export let PX3: v128 = i32x4(0, 0, 0, 0);

/** Counters (b, b+1, b+2, b+3) for the four lanes. */
// @ts-ignore: decorator
@inline export function laneBlocks(b: u32): v128 {
  return i32x4.add(i32x4.splat(b), v128.load(LANE_INDEX));
}

/** High halves of the four lane products a·m. */
// @ts-ignore: decorator
@inline function mulhi(a: v128, m: v128): v128 {
  return i32x4.shuffle(i64x2.extmul_low_i32x4_u(a, m), i64x2.extmul_high_i32x4_u(a, m), 1, 3, 5, 7);
}

/** A new even word of a round: hi(a·m) ^ odd ^ key. */
// @ts-ignore: decorator
@inline function mix(a: v128, m: v128, odd: v128, key: v128): v128 {
  return v128.xor(v128.xor(mulhi(a, m), odd), key);
}

/** The high word of the 64-bit product of two 32-bit words (the scalar mulhi). */
// @ts-ignore: decorator
@inline function mulhiScalar(a: u32, b: u32): u32 {
  return <u32>((<u64>a * <u64>b) >>> 32);
}

/** Runs Philox4x32-10 on the counters (c0[l], c1, c2, c3), l = 0..3, key (k0, k1) into PX0..PX3. */
// @ts-ignore: decorator
@inline export function philox4(c0: v128, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  const m0 = splatAt(PHILOX, 0);
  const m1 = splatAt(PHILOX, 1);
  const w0 = splatAt(PHILOX, 2);
  const w1 = splatAt(PHILOX, 3);
  // Rounds 1 and 2. Only c0 differs between the lanes there: the products of the words they all
  // share are scalars (s0, s1: round 1's x0 and x1), two vector multiply pairs fewer, the same bits.
  const s0 = mulhiScalar(c2, M1) ^ c1 ^ k0;
  const s1 = c2 * M1;
  let x2 = mix(c0, m0, i32x4.splat(c3), i32x4.splat(k1));
  let x3 = i32x4.mul(c0, m0);
  let x0 = mix(x2, m1, i32x4.splat(s1), i32x4.splat(k0 + W0));
  let x1 = i32x4.mul(x2, m1);
  x2 = v128.xor(x3, i32x4.splat(mulhiScalar(s0, M0) ^ (k1 + W1)));
  x3 = i32x4.splat(s0 * M0);
  let key0 = i32x4.splat(k0 + 2 * W0);
  let key1 = i32x4.splat(k1 + 2 * W1);
  // Rounds 3 to 10. Each line is one round: (x0, x1, x2, x3) <- (hi(x2·M1)^x1^key0, lo(x2·M1), hi(x0·M0)^x3^key1, lo(x0·M0)).
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  PX0 = x0;
  PX1 = x1;
  PX2 = x2;
  PX3 = x3;
}

// Outputs of philox8(): the 4 blocks after those in PX0..PX3.
export let PY0: v128 = i32x4(0, 0, 0, 0);
export let PY1: v128 = i32x4(0, 0, 0, 0);
export let PY2: v128 = i32x4(0, 0, 0, 0);
export let PY3: v128 = i32x4(0, 0, 0, 0);

/**
 * philox4 on counters c0 (into PX0..PX3) and c0 + 4 (into PY0..PY3), the two chains interleaved:
 * one Philox chain is latency-bound (10 dependent multiply rounds), two fill the pipeline.
 */
// @ts-ignore: decorator
@inline export function philox8(c0: v128, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  const m0 = splatAt(PHILOX, 0);
  const m1 = splatAt(PHILOX, 1);
  const w0 = splatAt(PHILOX, 2);
  const w1 = splatAt(PHILOX, 3);
  const d0 = i32x4.add(c0, splatAt(PHILOX, 4));
  // Rounds 1 and 2 of both chains, with the shared words' products as scalars (as in philox4).
  const s0 = mulhiScalar(c2, M1) ^ c1 ^ k0;
  const c3k1 = i32x4.splat(c3 ^ k1);
  const x1r1 = i32x4.splat(c2 * M1);
  const key0r2 = i32x4.splat(k0 + W0);
  const x2r2 = i32x4.splat(mulhiScalar(s0, M0) ^ (k1 + W1));
  let x2 = v128.xor(mulhi(c0, m0), c3k1);
  let x3 = i32x4.mul(c0, m0);
  let y2 = v128.xor(mulhi(d0, m0), c3k1);
  let y3 = i32x4.mul(d0, m0);
  let x0 = mix(x2, m1, x1r1, key0r2);
  let x1 = i32x4.mul(x2, m1);
  let y0 = mix(y2, m1, x1r1, key0r2);
  let y1 = i32x4.mul(y2, m1);
  x2 = v128.xor(x3, x2r2);
  y2 = v128.xor(y3, x2r2);
  x3 = i32x4.splat(s0 * M0);
  y3 = x3;
  let key0 = i32x4.splat(k0 + 2 * W0);
  let key1 = i32x4.splat(k1 + 2 * W1);
  // Rounds 3 to 10. Each line is one round of one chain: (x0, x1, x2, x3) <- (hi(x2·M1)^x1^key0, lo(x2·M1), hi(x0·M0)^x3^key1, lo(x0·M0)).
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  key0 = i32x4.add(key0, w0); key1 = i32x4.add(key1, w1);
  { const a = x0, b = x2; x0 = mix(b, m1, x1, key0); x1 = i32x4.mul(b, m1); x2 = mix(a, m0, x3, key1); x3 = i32x4.mul(a, m0); }
  { const a = y0, b = y2; y0 = mix(b, m1, y1, key0); y1 = i32x4.mul(b, m1); y2 = mix(a, m0, y3, key1); y3 = i32x4.mul(a, m0); }
  PX0 = x0;
  PX1 = x1;
  PX2 = x2;
  PX3 = x3;
  PY0 = y0;
  PY1 = y1;
  PY2 = y2;
  PY3 = y3;
}

/** out[4k .. 4k+3] = philox4x32(firstBlock + k, c1, c2, c3, k0, k1) for k < blocks (u32 words). */
export function philoxBlocks(out: usize, blocks: i32, firstBlock: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let k: i32 = 0; k < blocks; k += 4) {
    philox4(laneBlocks(firstBlock + <u32>k), c1, c2, c3, k0, k1);
    // Transpose word-major lanes into block-major rows: row l = (x0, x1, x2, x3) of block k + l.
    const a = i32x4.shuffle(PX0, PX1, 0, 4, 1, 5);
    const b = i32x4.shuffle(PX2, PX3, 0, 4, 1, 5);
    const c = i32x4.shuffle(PX0, PX1, 2, 6, 3, 7);
    const d = i32x4.shuffle(PX2, PX3, 2, 6, 3, 7);
    const ptr = out + (<usize>k << 4);
    const left = blocks - k;
    v128.store(ptr, i32x4.shuffle(a, b, 0, 1, 4, 5));
    if (left > 1) v128.store(ptr, i32x4.shuffle(a, b, 2, 3, 6, 7), 16);
    if (left > 2) v128.store(ptr, i32x4.shuffle(c, d, 0, 1, 4, 5), 32);
    if (left > 3) v128.store(ptr, i32x4.shuffle(c, d, 2, 3, 6, 7), 48);
  }
}
