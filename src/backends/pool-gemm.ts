// The pieces of the model toolkit's GEMM (assembly/nn.ts nnGemm) split by output rows over the
// worker pool: the operands of a row range, how many shards a product is worth, how a shard is
// written into a worker's argument words, and a synchronous wait. The model calls gemm()
// synchronously (NnOps.gemm returns void), so unlike the element-wise kernels the calling thread
// blocks until every shard is done (pool-runner.ts gemm()).
//
// Row shards are bit-identical to one call: nnGemm computes each output element from the same
// packed operands in the same order whatever the tile it lands in (full 4×8 tiles and edge tiles
// sum the same products, then add C), so moving A and C to a row range changes no bits.

import * as P from '../../workers/protocol.js';
import type { KernelExports } from './wasm-module.js';

export const GEMM_EXPORT = 'nnGemm';
/** Shards start on whole register tiles (MR rows in assembly/nn.ts) so no shard adds edge tiles. */
export const GEMM_ROW_ALIGN = 4;

/** nnGemm's arguments: pointers are byte offsets into the shared memory. */
export interface GemmOperands {
  transA: number;
  transB: number;
  m: number;
  n: number;
  k: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  c: number;
  ldc: number;
  accumulate: number;
  pack: number;
}

/** nnGemm's positional arguments (the export's order), as the module calls it. */
export type GemmPositional = (
  transA: number, transB: number, m: number, n: number, k: number, a: number, lda: number,
  b: number, ldb: number, c: number, ldc: number, accumulate: number, pack: number,
) => number;

function gemmArgs(g: GemmOperands): number[] {
  return [g.transA, g.transB, g.m, g.n, g.k, g.a, g.lda, g.b, g.ldb, g.c, g.ldc, g.accumulate, g.pack];
}

/**
 * Runs nnGemm on the calling thread's instance, with positional arguments: called with a spread
 * array, V8 goes through its generic JS-to-wasm wrapper, a cost per call that shows on a model's
 * hundreds of small products per epoch.
 */
export function callGemm(exports: KernelExports, g: GemmOperands): void {
  (exports[GEMM_EXPORT] as unknown as GemmPositional)(g.transA, g.transB, g.m, g.n, g.k, g.a, g.lda, g.b, g.ldb, g.c, g.ldc, g.accumulate, g.pack);
}

/**
 * Output rows [r0, r0 + rows) with its own pack area: row r of op(A) starts at a + 4·r·lda without
 * transpose and a + 4·r with it; C's row r at c + 4·r·ldc (gemmRowShard in src/nn/ops.ts).
 */
export function gemmRowPiece(g: GemmOperands, r0: number, rows: number, pack: number): GemmOperands {
  const aRow = g.transA ? r0 : r0 * g.lda;
  return { ...g, m: rows, a: g.a + 4 * aRow, c: g.c + 4 * r0 * g.ldc, pack };
}

/** Floats of C the product touches (its rows with the gaps between them, for an undo copy). */
export function gemmOutputSpan(g: GemmOperands): number {
  return g.m === 0 || g.n === 0 ? 0 : (g.m - 1) * g.ldc + g.n;
}

/**
 * Shards worth running: every shard carries at least `minFlops` (2·rows·n·k) and at least one
 * register tile of rows; never more than `threads`.
 */
export function gemmShardCount(m: number, n: number, k: number, threads: number, minFlops: number): number {
  const flops = 2 * m * n * k;
  return Math.max(1, Math.min(threads, Math.floor(flops / minFlops), Math.floor(m / GEMM_ROW_ALIGN)));
}

/** Writes one GEMM shard into a worker's argument words (the layout of workers/protocol.js). */
export function encodeGemm(words: Float64Array, exportIndex: number, g: GemmOperands): void {
  const args = gemmArgs(g);
  words[P.A_EXPORT] = exportIndex;
  words[P.A_ARGC] = args.length;
  words[P.A_POINTER_MASK] = 0;
  words[P.A_COUNT_AT] = -1;
  words[P.A_FIRST_AT] = -1;
  words[P.A_BACKUPS] = 0; // accumulate's undo copy is taken by the calling thread, before any shard starts
  words[P.A_CHUNK] = 0;
  args.forEach((value, i) => (words[P.A_ARGS + i] = value));
}

let mayBlock: boolean | undefined;

/**
 * Blocks until ctl[index] may differ from `old` or `timeoutMs` passed: Atomics.wait where the
 * thread may block (Node, Deno, workers), else a spin on Atomics.load (a browser's main thread
 * refuses Atomics.wait).
 */
export function blockUntilChange(ctl: Int32Array, index: number, old: number, timeoutMs: number): void {
  if (mayBlock !== false) {
    try {
      Atomics.wait(ctl, index, old, Math.max(0, timeoutMs));
      mayBlock = true;
      return;
    } catch (error) {
      if (mayBlock === true) throw error;
      mayBlock = false;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(ctl, index) === old && Date.now() < deadline) {
    // spin: this thread may not sleep
  }
}
