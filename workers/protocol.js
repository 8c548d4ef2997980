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
export const SHARD_US = 7; // the worker's own time for its last kernel op, µs (written before DONE): the pool's wake-up + join cost is the rest of the call
export const TAKEN = 8; // the sequence number of the kernel op open for claiming; claimShard marks it claimed

export const OP_KERNEL = 1;
export const OP_PAUSE = 2; // leave the serve loop so comlink calls (configure) are answered
export const OP_EXIT = 3;
export const OP_DRAW_AHEAD = 4; // claim and draw chunks of the ahead job whose table is at A_ARGS (drawAheadChunks)

/**
 * Claims kernel op `seq` of this slot; true if it was still open. The worker claims before it runs
 * an op; the main thread claims a shard the worker has not started once its own shard is done, and
 * runs it itself: a worker that is not scheduled (another process holds the core, or its wake-up
 * is slow) then costs the call nothing but the main thread's own time. A worker that loses the
 * claim acknowledges the op without running it. signal() opens the next op by writing its number;
 * a claim flips that number's top bit, so a late claim for an older op (whose number is no longer
 * there) fails too.
 * @param {Int32Array} ctl the slot
 * @param {number} seq the op's sequence number
 */
export function claimShard(ctl, seq) {
  return Atomics.compareExchange(ctl, TAKEN, seq, seq ^ 0x80000000) === seq;
}

export const STATUS_OK = 0;
export const STATUS_ERROR = 1;

/** Float64 word indices inside a slot (a kernel op). */
export const A_EXPORT = 0; // index into the export-name table sent at init
export const A_ARGC = 1;
export const A_POINTER_MASK = 2; // bit i set: argument i is a float32 pointer
export const A_COUNT_AT = 3; // which argument is the element count
export const A_FIRST_AT = 4; // which argument is the global first element (-1: none)
export const A_BACKUPS = 5; // number of in-place roles to copy aside before changing them (0..4)
export const A_CHUNK = 6; // elements per undo chunk
export const A_BACKUP_PAIRS = 7; // (live pointer, undo pointer) pairs: 7..14
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

// ---- noise drawn ahead -----------------------------------------------------------------------
// An ahead job fills the 'epsilon' role of some ranges with z under one counter while the main
// thread runs the model. Its table lives in the shared WebAssembly.Memory (Int32 words, uint32
// bits): chunks are claimed with Atomics.add, so the main thread can take the chunks a worker has
// not reached when the step needs them, and redo any chunk not yet marked written (the same bits:
// a late worker write changes nothing). src/backends/pool-ahead.ts owns the table.

export const T_CLAIM = 0; // next chunk to claim
export const T_CHUNKS = 1; // chunks in all
export const T_CHUNK_ELEMENTS = 2; // elements per chunk (a multiple of 16)
export const T_GROUPS = 3; // ranges
export const T_COUNTER = 4; // sample, step, stream, seedLo, seedHi (5 words)
export const T_RANGES = 12; // per range: epsilon byte pointer at its start, first element, count, first chunk
export const T_RANGE_WORDS = 4;

/** Word index of chunk k's written flag. */
export function aheadFlag(words, table, k) {
  return table + T_RANGES + T_RANGE_WORDS * words[table + T_GROUPS] + k;
}

/**
 * Draws chunk k of the ahead job at word `table` and marks it written.
 * @param {Function} fillNormal the instance's fillNormal export
 * @param {Int32Array} words a view of the whole shared memory
 * @param {number} table word index of the job table
 * @param {number} k chunk index
 */
export function drawAheadChunk(fillNormal, words, table, k) {
  const per = words[table + T_CHUNK_ELEMENTS];
  let r = table + T_RANGES;
  for (let g = words[table + T_GROUPS] - 1; g > 0; g--) {
    if (words[r + T_RANGE_WORDS + 3] > k) break;
    r += T_RANGE_WORDS;
  }
  const offset = (k - words[r + 3]) * per;
  const n = Math.min(per, words[r + 2] - offset);
  const c = table + T_COUNTER;
  fillNormal((words[r] >>> 0) + 4 * offset, n, (words[r + 1] >>> 0) + offset, words[c] >>> 0, words[c + 1] >>> 0, words[c + 2] >>> 0, words[c + 3] >>> 0, words[c + 4] >>> 0);
  Atomics.store(words, aheadFlag(words, table, k), 1);
}

/**
 * Claims and draws chunks until none is left; returns how many this thread drew. Used by the
 * workers (OP_DRAW_AHEAD) and by the main thread when the step needs the values.
 * @param {Function} fillNormal
 * @param {Int32Array} words
 * @param {number} table
 * @param {(chunk: number) => void} [beforeChunk] fault-injection hook (tests)
 */
export function drawAheadChunks(fillNormal, words, table, beforeChunk) {
  const chunks = words[table + T_CHUNKS];
  let drawn = 0;
  for (;;) {
    const k = Atomics.add(words, table + T_CLAIM, 1);
    if (k >= chunks) return drawn;
    if (beforeChunk) beforeChunk(drawn);
    drawAheadChunk(fillNormal, words, table, k);
    drawn += 1;
  }
}
