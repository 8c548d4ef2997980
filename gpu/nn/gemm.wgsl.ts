// The tiled GEMM of the model toolkit: C = op(A)·op(B) (or C += …), row-major, with the three
// products a training step needs (Y = X·W, dX = dY·Wᵀ, dW = Xᵀ·dY) as transpose flags. Each
// workgroup computes a 64×64 tile of C from 64×16 / 16×64 tiles of A and B staged in workgroup
// memory; each of its 16×16 threads keeps a 4×4 block of C in registers. Whole buffers are bound
// and operands are located by element offsets in the uniforms (parameters sit at 64-byte
// boundaries, below the 256-byte storage-offset alignment).

export const GEMM_TILE = 64;
export const GEMM_TILE_K = 16;

export const gemmSource = /* wgsl */ `
struct Params {
  m: u32, n: u32, k: u32, lda: u32,
  ldb: u32, ldc: u32, offA: u32, offB: u32,
  offC: u32, transA: u32, transB: u32, accumulate: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const TILE: u32 = ${GEMM_TILE}u;
const TK: u32 = ${GEMM_TILE_K}u;
var<workgroup> tileA: array<f32, ${GEMM_TILE * GEMM_TILE_K}>; // [p][i]
var<workgroup> tileB: array<f32, ${GEMM_TILE * GEMM_TILE_K}>; // [p][j]

// op(A)[i][p], zero outside m×k.
fn loadA(i: u32, p: u32) -> f32 {
  if (i >= params.m || p >= params.k) { return 0.0; }
  if (params.transA != 0u) { return a[params.offA + p * params.lda + i]; }
  return a[params.offA + i * params.lda + p];
}

// op(B)[p][j], zero outside k×n.
fn loadB(p: u32, j: u32) -> f32 {
  if (p >= params.k || j >= params.n) { return 0.0; }
  if (params.transB != 0u) { return b[params.offB + j * params.ldb + p]; }
  return b[params.offB + p * params.ldb + j];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < params.k; k0 += TK) {
    // 1024 elements per tile, 4 per thread; consecutive threads read consecutive addresses.
    for (var q = 0u; q < 4u; q++) {
      let e = t + 256u * q;
      if (params.transA != 0u) {
        let i = e % TILE; let p = e / TILE;
        tileA[p * TILE + i] = loadA(row0 + i, k0 + p);
      } else {
        let p = e % TK; let i = e / TK;
        tileA[p * TILE + i] = loadA(row0 + i, k0 + p);
      }
      if (params.transB != 0u) {
        let p = e % TK; let j = e / TK;
        tileB[p * TILE + j] = loadB(k0 + p, col0 + j);
      } else {
        let j = e % TILE; let p = e / TILE;
        tileB[p * TILE + j] = loadB(k0 + p, col0 + j);
      }
    }
    workgroupBarrier();
    for (var p = 0u; p < TK; p++) {
      let bv = vec4<f32>(tileB[p * TILE + lid.x], tileB[p * TILE + lid.x + 16u],
                         tileB[p * TILE + lid.x + 32u], tileB[p * TILE + lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += tileA[p * TILE + lid.y + 16u * i] * bv;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + 16u * i;
    if (row >= params.m) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x + 16u * j;
      if (col >= params.n) { continue; }
      let at = params.offC + row * params.ldc + col;
      var v = acc[i][j];
      if (params.accumulate != 0u) { v += c[at]; }
      c[at] = v;
    }
  }
}
`;
