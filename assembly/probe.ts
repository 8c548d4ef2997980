// Small memory kernels: copy (role to role), the triad bandwidth probe, and the non-finite
// gradient check that runs before any optimizer state changes (IVON.md §6).

/** dst[i] = src[i]. */
export function copy(dst: usize, src: usize, count: i32): void {
  memory.copy(dst, src, <usize>count << 2);
}

/** z[i] = a·x[i] + y[i]. */
export function triad(z: usize, x: usize, y: usize, count: i32, a: f32): void {
  const aV = f32x4.splat(a);
  let o: usize = 0;
  const end = <usize>count << 2;
  // Four vectors per loop trip, like the kernels it is the yardstick for (adamw.ts says why).
  for (; o + 64 <= end; o += 64) {
    v128.store(z + o, f32x4.add(f32x4.mul(aV, v128.load(x + o)), v128.load(y + o)));
    v128.store(z + o + 16, f32x4.add(f32x4.mul(aV, v128.load(x + o + 16)), v128.load(y + o + 16)));
    v128.store(z + o + 32, f32x4.add(f32x4.mul(aV, v128.load(x + o + 32)), v128.load(y + o + 32)));
    v128.store(z + o + 48, f32x4.add(f32x4.mul(aV, v128.load(x + o + 48)), v128.load(y + o + 48)));
  }
  for (; o + 16 <= end; o += 16) {
    v128.store(z + o, f32x4.add(f32x4.mul(aV, v128.load(x + o)), v128.load(y + o)));
  }
  for (; o < end; o += 4) store<f32>(z + o, a * load<f32>(x + o) + load<f32>(y + o));
}

/** The number of NaN / ±Infinity entries of x. */
export function countNonFinite(x: usize, count: i32): i32 {
  const inf = f32x4.splat(Infinity);
  // Lanes count down by one per non-finite entry; four vectors per loop trip (adamw.ts says why).
  let nonFinite = i32x4.splat(0);
  let o: usize = 0;
  const end = <usize>count << 2;
  for (; o + 64 <= end; o += 64) {
    const a = v128.not(f32x4.lt(f32x4.abs(v128.load(x + o)), inf));
    const b = v128.not(f32x4.lt(f32x4.abs(v128.load(x + o + 16)), inf));
    const c = v128.not(f32x4.lt(f32x4.abs(v128.load(x + o + 32)), inf));
    const d = v128.not(f32x4.lt(f32x4.abs(v128.load(x + o + 48)), inf));
    nonFinite = i32x4.add(nonFinite, i32x4.add(i32x4.add(a, b), i32x4.add(c, d)));
  }
  for (; o + 16 <= end; o += 16) {
    nonFinite = i32x4.add(nonFinite, v128.not(f32x4.lt(f32x4.abs(v128.load(x + o)), inf)));
  }
  let total = -(i32x4.extract_lane(nonFinite, 0) + i32x4.extract_lane(nonFinite, 1) +
    i32x4.extract_lane(nonFinite, 2) + i32x4.extract_lane(nonFinite, 3));
  for (; o < end; o += 4) {
    if (!(abs<f32>(load<f32>(x + o)) < Infinity)) total++;
  }
  return total;
}
