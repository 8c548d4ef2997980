// Every element-wise Backend method of the wasm backend becomes one KernelCall — "call export K
// with these role pointers, this count, this first element and these scalars" — and ONE function,
// callKernel(), turns a call plus a sub-range into the export's arguments. A call is plain data,
// so the worker pool can post it and run callKernel() in each worker on a 16-aligned piece of the
// range (splitRange); the RNG kernels take `first` = the piece's start, so any split gives the
// same bits.

import type { Range, Role } from '../backend.js';
import type { ElementwiseKernel, KernelExports } from './wasm-module.js';

/** One argument slot: a role buffer's pointer at the range start, the count, the first element, or a scalar. */
export type KernelArg = { readonly role: Role } | 'count' | 'first' | number;

export interface KernelCall {
  readonly kernel: ElementwiseKernel;
  readonly args: readonly KernelArg[];
}

/** Byte offset in the memory of each role buffer of an arena (element 0). */
export type RoleBases = Readonly<Partial<Record<Role, number>>>;

/** The pointer argument for `role`. */
export const roleArg = (role: Role): KernelArg => ({ role });

/** Runs `call` on elements [start, start + count) and returns the export's result (0 if none). */
export function callKernel(exports: KernelExports, bases: RoleBases, call: KernelCall, start: number, count: number): number {
  const args = call.args.map((arg) => {
    if (arg === 'count') return count;
    if (arg === 'first') return start;
    if (typeof arg === 'number') return arg;
    const base = bases[arg.role];
    if (base === undefined) throw new Error(`wasm backend: ${call.kernel} needs a '${arg.role}' buffer the arena does not have`);
    return base + 4 * start;
  });
  return exports[call.kernel](...args) ?? 0;
}

/**
 * Splits `range` into at most `pieces` consecutive ranges whose starts (after the first) are
 * multiples of `align` elements; empty pieces are dropped.
 */
export function splitRange(range: Range, pieces: number, align = 16): Range[] {
  if (!Number.isInteger(pieces) || pieces < 1) throw new RangeError(`splitRange: pieces must be a positive integer, got ${pieces}`);
  const end = range.start + range.count;
  const step = Math.ceil(range.count / pieces / align) * align;
  const out: Range[] = [];
  for (let start = range.start; start < end; ) {
    const next = Math.min(end, Math.ceil((start + Math.max(step, 1)) / align) * align);
    out.push({ start, count: next - start });
    start = next;
  }
  return out;
}

/** Where KernelCalls run. The wasm backend runs them in place; the worker pool supplies its own. */
export interface KernelRunner {
  /** Runs (or enqueues) `call` over `range` of the arena whose role buffers start at `bases`. */
  run(call: KernelCall, bases: RoleBases, range: Range): void;
  /** Like run(), resolving to the sum of the kernel's results over the pieces (countNonFinite). */
  sum(call: KernelCall, bases: RoleBases, range: Range): Promise<number>;
  /** Resolves once every enqueued call has finished. */
  flush(): Promise<void>;
}

/** Runs every call synchronously on the calling thread's instance. */
export class InPlaceRunner implements KernelRunner {
  constructor(private readonly exports: KernelExports) {}

  run(call: KernelCall, bases: RoleBases, range: Range): void {
    if (range.count > 0) callKernel(this.exports, bases, call, range.start, range.count);
  }

  async sum(call: KernelCall, bases: RoleBases, range: Range): Promise<number> {
    return range.count > 0 ? callKernel(this.exports, bases, call, range.start, range.count) : 0;
  }

  async flush(): Promise<void> {}
}
