// Utility kernels: the non-finite scan that guards each step, fill, and the bandwidth probes
// (copy, triad) that benchmarks compare the optimizer kernels against.

/**
 * `countNonFinite`: result[0] += number of NaN/±Inf entries. Tested on the exponent bits, not with
 * x - x != 0, which a compiler that assumes finite math may fold away. Each workgroup sums in
 * shared memory and adds once to the global counter; the barrier needs every invocation, so none
 * returns early.
 */
export const countNonFiniteBody = /* wgsl */ `
var<workgroup> groupCount: atomic<u32>;
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done < params.count) {
    let bits = bitcast<vec4<u32>>(x[params.base / 4u + inv]);
    let bad = ((bits & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u)) & laneMask(done);
    let n = dot(select(vec4<u32>(0u), vec4<u32>(1u), bad), vec4<u32>(1u));
    if (n > 0u) { atomicAdd(&groupCount, n); }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let total = atomicLoad(&groupCount);
    if (total > 0u) { atomicAdd(&result[0], total); }
  }
}
`;

/** `fill`: out[i] = f0.x, one element per invocation (any start, not only multiples of 4). */
export const fillBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  if (inv >= params.count) { return; }
  out[params.base + inv] = params.f0.x;
}
`;

/** `copy`: dst = src, one vec4 per invocation; the copy-bandwidth probe. */
export const copyBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let keep = laneMask(done);
  if (all(keep)) {
    dst[v] = src[v];
  } else {
    dst[v] = select(dst[v], src[v], keep);
  }
}
`;

/** `triad`: z = a·x + y with f0.x = a; the read-two-write-one bandwidth probe. */
export const triadBody = /* wgsl */ `
fn run(inv: u32, lid: u32) {
  let done = inv * 4u;
  if (done >= params.count) { return; }
  let v = params.base / 4u + inv;
  let r = params.f0.x * x[v] + y[v];
  let keep = laneMask(done);
  z[v] = select(z[v], r, keep);
}
`;
