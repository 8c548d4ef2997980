// The compute interface of the model toolkit: the GEMM products of training and the bias /
// activation kernels, with one plain-TypeScript implementation (here) and one WASM SIMD
// implementation (ops-wasm.ts, kernels in assembly/nn.ts). Layers talk only to NnOps, so a model
// runs unchanged on either, reading weights straight from the optimizer's buffers.

export type ActivationKind = 'relu' | 'gelu' | 'tanh';

/**
 * C = op(A)·op(B) (or C += … with accumulate), row-major. op(A) is m×k, op(B) is k×n.
 * a, b, c are positioned at their first element (use subarray). Leading dimensions default to a
 * dense layout: lda = transA ? m : k, ldb = transB ? k : n, ldc = n.
 */
export interface GemmSpec {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  accumulate?: boolean;
  lda?: number;
  ldb?: number;
  ldc?: number;
}

/** A workspace buffer. view() is short-lived: a growing WASM memory detaches older views. */
export interface Buf {
  readonly count: number;
  view(): Float32Array;
}

export interface NnOps {
  readonly kind: 'js' | 'wasm';
  /** A float32 buffer the kernels of these ops can read and write (WASM: inside its memory). */
  alloc(count: number): Buf;
  /** True when `x` can be handed to these kernels without a copy. */
  accepts(x: Float32Array): boolean;
  gemm(spec: GemmSpec): void;
  /** y[r][j] += bias[j]. */
  biasAdd(y: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  /** db[j] = Σ_r dy[r][j] (overwrites). */
  biasGrad(dy: Float32Array, db: Float32Array, rows: number, cols: number): void;
  activation(kind: ActivationKind, x: Float32Array, y: Float32Array, count: number): void;
  /** dx from dy; x is the activation's input, y its output (each kernel uses what it needs). */
  activationBackward(kind: ActivationKind, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, count: number): void;
}

export interface ResolvedGemm extends GemmSpec {
  accumulate: boolean;
  lda: number;
  ldb: number;
  ldc: number;
}

/** Fills in default leading dimensions and checks that every operand is long enough. */
export function resolveGemm(spec: GemmSpec): ResolvedGemm {
  const { transA, transB, m, n, k, a, b, c } = spec;
  for (const [label, v] of [['m', m], ['n', n], ['k', k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`gemm: ${label} must be a non-negative integer, got ${v}`);
  }
  const lda = spec.lda ?? (transA ? m : k);
  const ldb = spec.ldb ?? (transB ? k : n);
  const ldc = spec.ldc ?? n;
  const need = (rows: number, cols: number, ld: number) => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);
  const needA = transA ? need(k, m, lda) : need(m, k, lda);
  const needB = transB ? need(n, k, ldb) : need(k, n, ldb);
  const needC = need(m, n, ldc);
  if (a.length < needA) throw new Error(`gemm: A has ${a.length} elements, op(A) ${m}×${k} (lda ${lda}) needs ${needA}`);
  if (b.length < needB) throw new Error(`gemm: B has ${b.length} elements, op(B) ${k}×${n} (ldb ${ldb}) needs ${needB}`);
  if (c.length < needC) throw new Error(`gemm: C has ${c.length} elements, ${m}×${n} (ldc ${ldc}) needs ${needC}`);
  return { ...spec, accumulate: spec.accumulate ?? false, lda, ldb, ldc };
}

/**
 * The part of a GEMM that computes output rows [rowStart, rowEnd): same kernel, operands moved.
 * This is how a worker pool splits one product (each worker keeps its own pack area).
 */
export function gemmRowShard(spec: GemmSpec, rowStart: number, rowEnd: number): ResolvedGemm {
  const r = resolveGemm(spec);
  if (!(0 <= rowStart && rowStart <= rowEnd && rowEnd <= r.m)) {
    throw new Error(`gemmRowShard: rows [${rowStart}, ${rowEnd}) outside 0..${r.m}`);
  }
  const aStart = r.transA ? rowStart : rowStart * r.lda;
  return {
    ...r,
    m: rowEnd - rowStart,
    a: r.a.subarray(Math.min(aStart, r.a.length)),
    c: r.c.subarray(Math.min(rowStart * r.ldc, r.c.length)),
  };
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** Plain TypeScript: the reference for the WASM kernels and the fallback everywhere. */
export class JsOps implements NnOps {
  readonly kind = 'js' as const;

  alloc(count: number): Buf {
    const data = new Float32Array(count);
    return { count, view: () => data };
  }

  accepts(): boolean {
    return true;
  }

  gemm(spec: GemmSpec): void {
    const { transA, transB, m, n, k, a, b, c, accumulate, lda, ldb, ldc } = resolveGemm(spec);
    // Float64 row accumulator; k unrolled by 4 so each pass over the row does 4 multiply-adds.
    const row = new Float64Array(n);
    const at = (i: number, p: number) => (transA ? a[p * lda + i] : a[i * lda + p]);
    for (let i = 0; i < m; i++) {
      if (transB) {
        // Dot products of op(A)'s row with 4 rows of B at a time (each a-value loaded once).
        const ai = i * lda;
        const aStride = transA ? lda : 1;
        const aFirst = transA ? i : ai;
        let j = 0;
        for (; j + 4 <= n; j += 4) {
          const b0 = j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let p = 0, q = aFirst; p < k; p++, q += aStride) {
            const av = a[q];
            s0 += av * b[b0 + p];
            s1 += av * b[b1 + p];
            s2 += av * b[b2 + p];
            s3 += av * b[b3 + p];
          }
          row[j] = s0;
          row[j + 1] = s1;
          row[j + 2] = s2;
          row[j + 3] = s3;
        }
        for (; j < n; j++) {
          let s = 0;
          const bj = j * ldb;
          for (let p = 0, q = aFirst; p < k; p++, q += aStride) s += a[q] * b[bj + p];
          row[j] = s;
        }
      } else {
        row.fill(0);
        let p = 0;
        for (; p + 4 <= k; p += 4) {
          const a0 = at(i, p), a1 = at(i, p + 1), a2 = at(i, p + 2), a3 = at(i, p + 3);
          if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue; // ReLU zeros
          const b0 = p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
          for (let j = 0; j < n; j++) row[j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
        }
        for (; p < k; p++) {
          const ap = at(i, p);
          const bp = p * ldb;
          for (let j = 0; j < n; j++) row[j] += ap * b[bp + j];
        }
      }
      const ci = i * ldc;
      if (accumulate) for (let j = 0; j < n; j++) c[ci + j] += row[j];
      else for (let j = 0; j < n; j++) c[ci + j] = row[j];
    }
  }

  biasAdd(y: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) y[o + j] += bias[j];
    }
  }

  biasGrad(dy: Float32Array, db: Float32Array, rows: number, cols: number): void {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += dy[r * cols + j];
      db[j] = s;
    }
  }

  activation(kind: ActivationKind, x: Float32Array, y: Float32Array, count: number): void {
    for (let i = 0; i < count; i++) y[i] = activate(kind, x[i]);
  }

  activationBackward(kind: ActivationKind, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, count: number): void {
    for (let i = 0; i < count; i++) dx[i] = dy[i] * activationSlope(kind, x[i], y[i]);
  }
}

/** The activation of one value (float64). */
export function activate(kind: ActivationKind, x: number): number {
  switch (kind) {
    case 'relu':
      return x > 0 ? x : 0;
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      return 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_A * x * x * x)));
  }
}

/** d activation / dx at input x with output y. */
export function activationSlope(kind: ActivationKind, x: number, y: number): number {
  switch (kind) {
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'tanh':
      return 1 - y * y;
    case 'gelu': {
      const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
    }
  }
}
