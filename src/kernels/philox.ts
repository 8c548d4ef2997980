// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): the
// counter-based generator behind every backend's noise. This is the reference the WASM and WGSL
// kernels reproduce bit for bit (docs/KERNELS.md §1).

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact: split b into 16-bit halves). */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((loLo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** Writes philox4x32(c0..c3; k0, k1) into out[at..at+3]. */
export function philox4x32Into(
  out: Uint32Array,
  at: number,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[at] = x0;
  out[at + 1] = x1;
  out[at + 2] = x2;
  out[at + 3] = x3;
}

export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): Uint32Array {
  const out = new Uint32Array(4);
  philox4x32Into(out, 0, c0, c1, c2, c3, k0, k1);
  return out;
}

/** Kernel `philoxBlocks`: out[4k..4k+3] = philox4x32(firstBlock + k, c1, c2, c3; k0, k1). */
export function philoxBlocks(
  out: Uint32Array,
  blocks: number,
  firstBlock: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): void {
  for (let k = 0; k < blocks; k++) philox4x32Into(out, 4 * k, (firstBlock + k) >>> 0, c1, c2, c3, k0, k1);
}

/** Splits a seed in [0, 2^53) into the two 32-bit Philox key words. */
export function seedKey(seed: number): { seedLo: number; seedHi: number } {
  return { seedLo: seed >>> 0, seedHi: Math.floor(seed / 4294967296) >>> 0 };
}
