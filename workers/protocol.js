// @ts-check
// The control block shared by the pool (main thread) and its workers: one slot of Int32 words per
// worker for the handshake, and one slot of Float64 words for the kernel arguments. Per-kernel
// work travels through these words with Atomics (main: Atomics.notify / waitAsync; worker:
// Atomics.wait), never through postMessage: a comlink round trip costs ~55–130 µs (PLATFORM.md).
// Plain JS (with JSDoc types) so a Node worker loads it without a TypeScript loader.

/** Int32 words per worker slot (128 bytes: slots of different workers never share a cache line). */
export const SLOT_INTS = 32;
/** Float64 words per worker slot. */
export const SLOT_FLOATS = 48;

/** Int32 word indices inside a slot. */
export const GO = 0; // sequence number, written by the main thread to start an op
export const DONE = 1; // sequence number of the last finished op, written by the worker
export const OP = 2; // what to do (an OP_* code below)
export const STATUS = 3; // STATUS_* of the last op
export const RESULT = 4; // integer result (countNonFinite)
export const PROGRESS = 5; // elements of the shard whose undo copy is complete (in-place kernels)
export const DIED = 6; // set to 1 by a worker that is exiting (where the environment tells it): a main thread blocked on DONE sees it at once

export const OP_KERNEL = 1;
export const OP_PAUSE = 2; // leave the serve loop so comlink calls (configure) are answered
export const OP_EXIT = 3;

export const STATUS_OK = 0;
export const STATUS_ERROR = 1;

/** Float64 word indices inside a slot (a kernel op). */
export const A_EXPORT = 0; // index into the export-name table sent at init
export const A_ARGC = 1;
export const A_POINTER_MASK = 2; // bit i set: argument i is a float32 pointer
export const A_COUNT_AT = 3; // which argument is the element count
export const A_FIRST_AT = 4; // which argument is the global first element (-1: none)
export const A_BACKUPS = 5; // number of in-place roles to copy aside before changing them (0..3)
export const A_CHUNK = 6; // elements per undo chunk
export const A_BACKUP_PAIRS = 7; // (live pointer, undo pointer) pairs: 7..12
export const A_ARGS = 16; // the kernel's arguments, at most SLOT_FLOATS - A_ARGS

/**
 * Runs one kernel op on a shard: when in-place roles are listed, each chunk is first copied to the
 * undo area and PROGRESS is published, then the kernel runs on that chunk (still in cache). So
 * after any failure, restoring [0, PROGRESS) from the undo area returns the shard to its old state.
 * Shared by the main thread (its own shard) and the workers.
 * @param {Record<string, Function>} exports the instance's kernels
 * @param {string[]} names export-name table
 * @param {Float64Array} a the slot's argument words
 * @param {(done: number) => void} publish records undo progress
 * @param {(chunk: number) => void} [beforeChunk] fault-injection hook (tests)
 * @returns {number} the kernel's integer result, 0 for void kernels
 */
export function runKernelOp(exports, names, a, publish, beforeChunk) {
  const fn = exports[names[a[A_EXPORT]]];
  const argc = a[A_ARGC];
  const args = new Array(argc);
  for (let i = 0; i < argc; i++) args[i] = a[A_ARGS + i];
  const backups = a[A_BACKUPS];
  if (backups === 0) {
    if (beforeChunk) beforeChunk(0);
    return Number(fn(...args)) | 0;
  }
  const mask = a[A_POINTER_MASK];
  const countAt = a[A_COUNT_AT];
  const firstAt = a[A_FIRST_AT];
  const chunk = a[A_CHUNK];
  const total = args[countAt];
  const copy = exports.copy;
  const base = args.slice();
  for (let done = 0, k = 0; done < total; done += chunk, k++) {
    const n = Math.min(chunk, total - done);
    const bytes = done * 4;
    for (let b = 0; b < backups; b++) copy(a[A_BACKUP_PAIRS + 2 * b + 1] + bytes, a[A_BACKUP_PAIRS + 2 * b] + bytes, n);
    publish(done + n);
    if (beforeChunk) beforeChunk(k);
    for (let i = 0; i < argc; i++) if (mask & (1 << i)) args[i] = base[i] + bytes;
    args[countAt] = n;
    if (firstAt >= 0) args[firstAt] = base[firstAt] + done;
    fn(...args);
  }
  return 0;
}
