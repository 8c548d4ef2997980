// Model kernels for on-device training (docs/API.md model toolkit): a packed, blocked GEMM in
// WASM SIMD and the bias/activation kernels around it. Training needs three products — Y = X·W,
// dX = dY·Wᵀ and dW = Xᵀ·dY — and a naive GEMM with a transposed input is 10–50× slower (the issue
// quotes TensorFlow.js wasm at 0.4–2.3 GFLOP/s there). Packing both operands into contiguous
// panels absorbs the transposes in an O(mk + kn) copy, so all three products run the same
// 4×8 register-tile micro-kernel. Pointers are byte offsets; nothing here allocates: the caller
// passes a pack area of nnGemmPackFloats() floats (one per concurrent caller / worker).
// Sharding by output rows: call with a sub-range of C's rows and A's pointer moved to that row
// (row r of op(A) starts at a + r·lda·4 without transpose, a + r·4 with it).

const MR: i32 = 4; // rows of the register tile
const NR: i32 = 8; // columns of the register tile (two f32x4)
const KC: i32 = 256; // depth of a packed block: a B micro-panel (KC·NR·4 = 8 KiB) stays in L1
const MC: i32 = 128; // rows of a packed A block (MC·KC·4 = 128 KiB, L2)
const NC: i32 = 512; // columns of a packed B block (KC·NC·4 = 512 KiB)

/** Floats the caller must reserve for `pack` (packed A block + packed B block + one edge tile). */
export function nnGemmPackFloats(): i32 {
  return MC * KC + KC * NC + MR * NR;
}

// dst[(ip/MR)·kc·MR + p·MR + ii] = op(A)[i0 + ip + ii][p0 + p], zero-padded to whole panels.
function packA(transA: i32, a: usize, lda: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const panel = dst + (<usize>(ip * kc) << 2);
    if (transA == 0) {
      for (let ii = 0; ii < MR; ii++) {
        if (ii < rows) {
          const src = a + (<usize>((i0 + ip + ii) * lda + p0) << 2);
          for (let p = 0; p < kc; p++) store<f32>(panel + (<usize>(p * MR + ii) << 2), load<f32>(src + (<usize>p << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(panel + (<usize>(p * MR + ii) << 2), 0);
        }
      }
    } else if (rows == MR) {
      // op(A)[i][p] = A[p][i]: MR consecutive rows of op(A) are one 16-byte load.
      for (let p = 0; p < kc; p++) {
        v128.store(panel + (<usize>(p * MR) << 2), v128.load(a + (<usize>((p0 + p) * lda + i0 + ip) << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = a + (<usize>((p0 + p) * lda + i0 + ip) << 2);
        for (let ii = 0; ii < MR; ii++) {
          store<f32>(panel + (<usize>(p * MR + ii) << 2), ii < rows ? load<f32>(src + (<usize>ii << 2)) : 0);
        }
      }
    }
  }
}

// dst[(jp/NR)·kc·NR + p·NR + jj] = op(B)[p0 + p][j0 + jp + jj], zero-padded to whole panels.
function packB(transB: i32, b: usize, ldb: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const panel = dst + (<usize>(jp * kc) << 2);
    if (transB == 0) {
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          const src = b + (<usize>((p0 + p) * ldb + j0 + jp) << 2);
          const out = panel + (<usize>(p * NR) << 2);
          v128.store(out, v128.load(src));
          v128.store(out, v128.load(src, 16), 16);
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const src = b + (<usize>((p0 + p) * ldb + j0 + jp) << 2);
          for (let jj = 0; jj < NR; jj++) {
            store<f32>(panel + (<usize>(p * NR + jj) << 2), jj < cols ? load<f32>(src + (<usize>jj << 2)) : 0);
          }
        }
      }
    } else {
      // op(B)[p][j] = B[j][p]: read each row of B contiguously, scatter into the panel.
      for (let jj = 0; jj < NR; jj++) {
        if (jj < cols) {
          const src = b + (<usize>((j0 + jp + jj) * ldb + p0) << 2);
          for (let p = 0; p < kc; p++) store<f32>(panel + (<usize>(p * NR + jj) << 2), load<f32>(src + (<usize>p << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(panel + (<usize>(p * NR + jj) << 2), 0);
        }
      }
    }
  }
}

// C[0..4)[0..8) (=|+=) packed A panel · packed B panel, kc deep. ldc in bytes.
// @ts-ignore: decorator
@inline
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

/**
 * C = op(A)·op(B) (accumulate = 0) or C += op(A)·op(B) (accumulate = 1), row-major.
 * op(A) is m×k: A[i·lda + p] (transA = 0) or A[p·lda + i] (transA = 1).
 * op(B) is k×n: B[p·ldb + j] (transB = 0) or B[j·ldb + p] (transB = 1). C[i·ldc + j].
 */
export function nnGemm(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: i32, pack: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (accumulate == 0) for (let i = 0; i < m; i++) memory.fill(c + (<usize>(i * ldc) << 2), 0, <usize>n << 2);
    return;
  }
  const packedA = pack;
  const packedB = pack + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  const ldcBytes = <usize>ldc << 2;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(transB, b, ldb, pc, kc, jc, nc, packedB);
      const acc = accumulate != 0 || pc > 0;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(transA, a, lda, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const pa = packedA + (<usize>(ir * kc) << 2);
            const cTile = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (rows == MR && cols == NR) {
              microKernel(kc, pa, pb, cTile, ldcBytes, acc);
            } else {
              microKernel(kc, pa, pb, tile, <usize>(NR << 2), false);
              for (let i = 0; i < rows; i++) {
                for (let j = 0; j < cols; j++) {
                  const dst = cTile + (<usize>(i * ldc + j) << 2);
                  const v = load<f32>(tile + (<usize>(i * NR + j) << 2));
                  store<f32>(dst, acc ? load<f32>(dst) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}

/** y[r][j] += bias[j] for a rows×cols row-major y. */
export function nnBiasAdd(y: usize, bias: usize, rows: i32, cols: i32): void {
  const vecCols = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const row = y + (<usize>(r * cols) << 2);
    let j = 0;
    for (; j < vecCols; j += 4) {
      const o = <usize>j << 2;
      v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
    }
  }
}

/** db[j] = Σ_r dy[r][j] (overwrites db). */
export function nnBiasGrad(dy: usize, db: usize, rows: i32, cols: i32): void {
  const vecCols = cols & ~3;
  let j = 0;
  for (; j < vecCols; j += 4) {
    let s = f32x4.splat(0);
    for (let r = 0; r < rows; r++) s = f32x4.add(s, v128.load(dy + (<usize>(r * cols + j) << 2)));
    v128.store(db + (<usize>j << 2), s);
  }
  for (; j < cols; j++) {
    let s: f32 = 0;
    for (let r = 0; r < rows; r++) s += load<f32>(dy + (<usize>(r * cols + j) << 2));
    store<f32>(db + (<usize>j << 2), s);
  }
}

/** y = max(x, 0). */
export function nnRelu(x: usize, y: usize, count: i32): void {
  const zero = f32x4.splat(0);
  const vec = count & ~3;
  let i = 0;
  for (; i < vec; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), zero));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, max<f32>(load<f32>(x + o), 0));
  }
}

/** dx = y > 0 ? dy : 0, with y the ReLU output. */
export function nnReluBackward(y: usize, dy: usize, dx: usize, count: i32): void {
  const zero = f32x4.splat(0);
  const vec = count & ~3;
  let i = 0;
  for (; i < vec; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

/** y = tanh(x). */
export function nnTanh(x: usize, y: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, Mathf.tanh(load<f32>(x + o)));
  }
}

/** dx = dy · (1 − y²), with y the tanh output. */
export function nnTanhBackward(y: usize, dy: usize, dx: usize, count: i32): void {
  const one = f32x4.splat(1);
  const vec = count & ~3;
  let i = 0;
  for (; i < vec; i += 4) {
    const o = <usize>i << 2;
    const t = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(t, t))));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (1 - t * t));
  }
}

const GELU_C: f32 = 0.7978845608028654; // sqrt(2/pi)
const GELU_A: f32 = 0.044715;

/** y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))), the tanh approximation of GELU. */
export function nnGelu(x: usize, y: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    const t = Mathf.tanh(GELU_C * (v + GELU_A * v * v * v));
    store<f32>(y + o, 0.5 * v * (1 + t));
  }
}

/** dx = dy · d/dx gelu(x), with x the GELU input. */
export function nnGeluBackward(x: usize, dy: usize, dx: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    const t = Mathf.tanh(GELU_C * (v + GELU_A * v * v * v));
    const du = GELU_C * (1 + 3 * GELU_A * v * v);
    store<f32>(dx + o, load<f32>(dy + o) * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du));
  }
}
