// A small allocator over the kernels' WebAssembly.Memory: the host places every arena and scratch
// buffer itself (the kernels never allocate). First fit over an address-ordered free list with
// coalescing, bump allocation above it, and memory.grow when the bump passes the end. Blocks are
// 64-byte aligned (a cache line; also 16-element aligned for the kernels' 16-wide groups).
// Growing detaches a non-shared memory's old ArrayBuffer: callers take fresh views every time.

import { WASM_PAGE_BYTES } from './wasm-module.js';

const alignUp = (value: number, align: number) => Math.ceil(value / align) * align;

export const HEAP_ALIGN = 64;

/** The page whose low address bits the CPU's caches and load/store checks index by. */
const PAGE_BYTES = 4096;

/**
 * Bytes between consecutive role buffers of an arena of `length` float32 elements and `roleCount`
 * roles: whole 16-element groups, then padded so that the role bases sit spread across a 4 KiB
 * page instead of at the same offset. A kernel streams every role at once; with a 2^k-element
 * arena (16M parameters: 64 MiB strides) all its streams would share their low 12 address bits,
 * so element i of each lands in the same L1 set and each load is checked against the stores of
 * the other streams as if they might alias (4K aliasing). The one-pass IVON step at 16M parameters
 * ran 7-18% faster for it in three alternating runs (docs/KERNELS.md §4). Strides under a page are
 * left alone: the roles already start at different offsets and the whole arena is cached.
 */
export function roleStride(length: number, roleCount: number): number {
  const bytes = Math.ceil(length / 16) * 64;
  if (bytes < PAGE_BYTES || roleCount < 2) return bytes;
  const spread = Math.max(HEAP_ALIGN, Math.floor(PAGE_BYTES / roleCount / HEAP_ALIGN) * HEAP_ALIGN);
  const pad = (((spread - bytes) % PAGE_BYTES) + PAGE_BYTES) % PAGE_BYTES;
  return bytes + pad;
}

interface FreeBlock {
  ptr: number;
  bytes: number;
}

export class WasmHeap {
  private top: number;
  private readonly free: FreeBlock[] = []; // address order, never adjacent to each other or to top
  private readonly live = new Map<number, number>(); // ptr -> bytes

  /** `base`: first byte the heap may use (the kernels' static data lies below). */
  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = alignUp(Math.max(base, HEAP_ALIGN), HEAP_ALIGN);
  }

  /** Bytes in use by live blocks. */
  get usedBytes(): number {
    let total = 0;
    for (const bytes of this.live.values()) total += bytes;
    return total;
  }

  /** One past the highest byte the heap has ever handed out (memory below it is reserved). */
  get highWater(): number {
    return this.top;
  }

  /** A 64-byte aligned block of at least `bytes` bytes (contents unspecified). */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`WasmHeap.alloc: bytes must be a non-negative integer, got ${bytes}`);
    const size = alignUp(Math.max(bytes, 1), HEAP_ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.bytes < size) continue;
      const ptr = block.ptr;
      if (block.bytes === size) this.free.splice(i, 1);
      else {
        block.ptr += size;
        block.bytes -= size;
      }
      this.live.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    this.live.set(ptr, size);
    return ptr;
  }

  /** Returns a block from alloc() to the heap. */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`WasmHeap.release: ${ptr} is not a live block (double free?)`);
    this.live.delete(ptr);
    let index = this.free.findIndex((block) => block.ptr > ptr);
    if (index < 0) index = this.free.length;
    let block: FreeBlock = { ptr, bytes: size };
    const before = this.free[index - 1];
    if (before && before.ptr + before.bytes === ptr) {
      before.bytes += size;
      block = before;
      index -= 1;
    } else this.free.splice(index, 0, block);
    const after = this.free[index + 1];
    if (after && block.ptr + block.bytes === after.ptr) {
      block.bytes += after.bytes;
      this.free.splice(index + 1, 1);
    }
    if (block.ptr + block.bytes === this.top) {
      this.top = block.ptr;
      this.free.splice(index, 1);
    }
  }

  /** Grows the memory so that bytes [0, end) exist. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / WASM_PAGE_BYTES);
    try {
      this.memory.grow(pages);
    } catch (error) {
      throw new RangeError(
        `wasm backend: out of memory growing the heap to ${(end / 2 ** 20).toFixed(1)} MiB (${String(error)}); ` +
          'destroy unused arenas or create the backend with a larger maximumBytes',
      );
    }
  }
}
