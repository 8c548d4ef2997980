// Philox4x32-10 and the Box–Muller normals of docs/KERNELS.md §1 in WGSL. WGSL has no 32x32->64
// multiply, so the high word is rebuilt from 16-bit halves (exact, like src/kernels/philox.ts);
// the log and sin/cos are the same Cephes polynomials in the same order, so the u32 stream is
// bit-identical to the TypeScript reference and the floats agree to a few ulp (a GPU compiler may
// fuse a*b+c into one fma).

export const rngWgsl = /* wgsl */ `
const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// (high, low) words of the 64-bit product a * b, from four 16x16-bit products. Partial sums are
// folded so no intermediate exceeds 32 bits: (2^16-1)^2 + (2^16-1) < 2^32.
fn mulHiLo(a: u32, b: u32) -> vec2<u32> {
  let aLo = a & 0xffffu;
  let aHi = a >> 16u;
  let bLo = b & 0xffffu;
  let bHi = b >> 16u;
  let t = aHi * bLo + ((aLo * bLo) >> 16u);
  let w = aLo * bHi + (t & 0xffffu);
  return vec2<u32>(aHi * bHi + (t >> 16u) + (w >> 16u), a * b);
}

fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let p0 = mulHiLo(PHILOX_M0, c.x);
    let p1 = mulHiLo(PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return c;
}

// u(x) = ((x >> 8) | 1) * 2^-24, exact in f32, never 0 or 1.
fn uniformOf(x: u32) -> f32 {
  return f32((x >> 8u) | 1u) * 5.9604644775390625e-8;
}

// Cephes logf, one f32 rounding per step.
fn cephesLog(u: f32) -> f32 {
  let bits = bitcast<u32>(u);
  var e = i32((bits >> 23u) & 0xffu) - 126;
  let f = bitcast<f32>((bits & 0x7fffffu) | 0x3f000000u);
  var x: f32;
  if (f < 0.70710677) {
    e = e - 1;
    x = (f + f) - 1.0;
  } else {
    x = f - 1.0;
  }
  let z = x * x;
  var y: f32 = 7.0376836292e-2;
  y = y * x - 1.1514610310e-1;
  y = y * x + 1.1676998740e-1;
  y = y * x - 1.2420140846e-1;
  y = y * x + 1.4249322787e-1;
  y = y * x - 1.6668057665e-1;
  y = y * x + 2.0000714765e-1;
  y = y * x - 2.4999993993e-1;
  y = y * x + 3.3333331174e-1;
  y = (y * x) * z;
  let fe = f32(e);
  y = y + fe * -2.12194440e-4;
  y = y - 0.5 * z;
  return (x + y) + fe * 0.693359375;
}

// (cos 2πu, sin 2πu) by quadrant reduction and the Cephes polynomials on [-π/4, π/4].
fn cosSin2Pi(u: f32) -> vec2<f32> {
  let t = u * 4.0;
  let q = floor(t + 0.5);
  let x = (t - q) * 1.5707963267948966;
  let z = x * x;
  var s: f32 = -1.9515295891e-4;
  s = s * z + 8.3321608736e-3;
  s = s * z - 1.6666654611e-1;
  s = (s * z) * x + x;
  var c: f32 = 2.443315711809948e-5;
  c = c * z - 1.388731625493765e-3;
  c = c * z + 4.166664568298827e-2;
  c = ((c * z) * z - 0.5 * z) + 1.0;
  switch (u32(q) & 3u) {
    case 0u: { return vec2<f32>(c, s); }
    case 1u: { return vec2<f32>(-s, c); }
    case 2u: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}

// z0..z3 of one Philox block.
fn normalsOfBits(x: vec4<u32>) -> vec4<f32> {
  let r01 = sqrt(-2.0 * cephesLog(uniformOf(x.x)));
  let cs01 = cosSin2Pi(uniformOf(x.y));
  let r23 = sqrt(-2.0 * cephesLog(uniformOf(x.z)));
  let cs23 = cosSin2Pi(uniformOf(x.w));
  return vec4<f32>(r01 * cs01.x, r01 * cs01.y, r23 * cs23.x, r23 * cs23.y);
}

// The 16 normals of elements e0 .. e0+15 (e0 a multiple of 16): column k holds elements
// e0+4k .. e0+4k+3. Element e reads lane (e >> 2) & 3 of block ((e >> 4) << 2) | (e & 3), so the
// four blocks' outputs are transposed into place.
fn normals16(e0: u32, sample: u32, step: u32, stream: u32, key: vec2<u32>) -> mat4x4<f32> {
  let b0 = e0 >> 2u;
  let z0 = normalsOfBits(philox4x32(vec4<u32>(b0, sample, step, stream), key));
  let z1 = normalsOfBits(philox4x32(vec4<u32>(b0 + 1u, sample, step, stream), key));
  let z2 = normalsOfBits(philox4x32(vec4<u32>(b0 + 2u, sample, step, stream), key));
  let z3 = normalsOfBits(philox4x32(vec4<u32>(b0 + 3u, sample, step, stream), key));
  return transpose(mat4x4<f32>(z0, z1, z2, z3));
}
`;

/** `philoxBlocks` (base counts blocks): out[k] = philox4x32(firstBlock + k, c1, c2, c3; k0, k1). ints0 = (firstBlock, c1, c2, c3), ints1.xy = key. */
export const philoxBlocksBody = /* wgsl */ `
${rngWgsl}
fn run(inv: u32, lid: u32) {
  if (inv >= params.count) { return; }
  let c = params.ints0;
  out[params.base + inv] = philox4x32(vec4<u32>(c.x + inv, c.y, c.z, c.w), params.ints1.xy);
}
`;

/** `fillNormal`: out[i] = z(first + i) for any first. ints0 = (sample, step, stream, seedLo), ints1.x = seedHi. */
export const fillNormalBody = /* wgsl */ `
${rngWgsl}
fn run(inv: u32, lid: u32) {
  let groupStart = (params.first & ~15u) + 16u * inv;
  let end = params.first + params.count;
  if (groupStart >= end) { return; }
  let a = params.ints0;
  let z = normals16(groupStart, a.x, a.y, a.z, vec2<u32>(a.w, params.ints1.x));
  for (var k = 0u; k < 4u; k++) {
    for (var l = 0u; l < 4u; l++) {
      let e = groupStart + 4u * k + l;
      if (e >= params.first && e < end) {
        out[params.base + e - params.first] = z[k][l];
      }
    }
  }
}
`;
