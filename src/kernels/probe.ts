// Small utility kernels: the non-finite scan that guards every step, and the memory-bandwidth
// probes the benchmarks compare each kernel against.

/** Kernel `countNonFinite`: how many entries are NaN or ±Infinity. */
export function countNonFinite(x: Float32Array, count: number): number {
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const v = x[i];
    if (v - v !== 0) bad++; // NaN - NaN and Inf - Inf are NaN
  }
  return bad;
}

/** Kernel `copy`: dst = src. */
export function copy(dst: Float32Array, src: Float32Array, count: number): void {
  for (let i = 0; i < count; i++) dst[i] = src[i];
}

/** Kernel `triad`: z = a·x + y. */
export function triad(z: Float32Array, x: Float32Array, y: Float32Array, count: number, a: number): void {
  const af = Math.fround(a);
  for (let i = 0; i < count; i++) z[i] = Math.fround(Math.fround(af * x[i]) + y[i]);
}
