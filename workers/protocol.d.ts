// Types of protocol.js for the TypeScript side of the pool (the worker itself is plain JS).
export declare const SLOT_INTS: number;
export declare const SLOT_FLOATS: number;
export declare const GO: number;
export declare const DONE: number;
export declare const OP: number;
export declare const STATUS: number;
export declare const RESULT: number;
export declare const PROGRESS: number;
export declare const DIED: number;
export declare const SHARD_US: number;
export declare const TAKEN: number;
export declare function claimShard(ctl: Int32Array, seq: number): boolean;
export declare const OP_KERNEL: number;
export declare const OP_PAUSE: number;
export declare const OP_EXIT: number;
export declare const OP_DRAW_AHEAD: number;
export declare const STATUS_OK: number;
export declare const STATUS_ERROR: number;
export declare const A_EXPORT: number;
export declare const A_ARGC: number;
export declare const A_POINTER_MASK: number;
export declare const A_COUNT_AT: number;
export declare const A_FIRST_AT: number;
export declare const A_BACKUPS: number;
export declare const A_CHUNK: number;
export declare const A_BACKUP_PAIRS: number;
export declare const A_ARGS: number;
export declare function runKernelOp(
  exports: Record<string, (...args: number[]) => unknown>,
  names: readonly string[],
  a: Float64Array,
  publish: (done: number) => void,
  beforeChunk?: (chunk: number) => void,
): number;
export declare const T_CLAIM: number;
export declare const T_CHUNKS: number;
export declare const T_CHUNK_ELEMENTS: number;
export declare const T_GROUPS: number;
export declare const T_COUNTER: number;
export declare const T_RANGES: number;
export declare const T_RANGE_WORDS: number;
export declare function aheadFlag(words: Int32Array, table: number, k: number): number;
export declare function drawAheadChunk(fillNormal: (...args: number[]) => unknown, words: Int32Array, table: number, k: number): void;
export declare function drawAheadChunks(fillNormal: (...args: number[]) => unknown, words: Int32Array, table: number, beforeChunk?: (chunk: number) => void): number;
