// Splits one kernel call into dispatches that respect the device's limits: a storage binding may
// cover at most maxStorageBufferBindingSize bytes starting at a multiple of
// minStorageBufferOffsetAlignment, and a dispatch at most maxComputeWorkgroupsPerDimension
// workgroups per dimension. Models bigger than either still run: each chunk binds its own window
// of the buffers and uses a 2-D grid. Pure arithmetic, so it is tested without a GPU.

import { WORKGROUP_SIZE } from './prelude.wgsl.js';

export interface DispatchLimits {
  /** Largest storage binding, bytes (maxStorageBufferBindingSize). */
  readonly maxBindingBytes: number;
  /** Storage binding offsets must be multiples of this many bytes (minStorageBufferOffsetAlignment). */
  readonly offsetAlignment: number;
  /** maxComputeWorkgroupsPerDimension. */
  readonly maxWorkgroupsPerDimension: number;
}

export interface Chunk {
  /** First element of the chunk, in the buffer's element coordinates. */
  readonly start: number;
  readonly count: number;
  /** The bound window of every buffer the kernel touches, in bytes. */
  readonly windowOffset: number;
  readonly windowSize: number;
  /** First element of the chunk relative to the window start. */
  readonly base: number;
}

export interface Grid {
  readonly x: number;
  readonly y: number;
  /** Invocations per grid row: the kernel's flat index is gid.y * rowSize + gid.x. */
  readonly rowSize: number;
}

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/** The most elements one dispatch may cover, a multiple of 16 with room for an unaligned start. */
export function maxElementsPerDispatch(elementsPerInvocation: number, limits: DispatchLimits): number {
  const invocations = limits.maxWorkgroupsPerDimension * limits.maxWorkgroupsPerDimension * WORKGROUP_SIZE;
  return Math.floor((invocations * elementsPerInvocation - 16) / 16) * 16;
}

/**
 * Chunks covering [start, start + count) of a buffer of bufferBytes bytes whose elements take
 * bytesPerElement bytes. A buffer that fits one binding is always bound whole (one bind group for
 * every range); a larger one gets a window per chunk.
 */
export function planChunks(
  start: number,
  count: number,
  bufferBytes: number,
  bytesPerElement: number,
  elementsPerInvocation: number,
  limits: DispatchLimits,
): Chunk[] {
  const perDispatch = maxElementsPerDispatch(elementsPerInvocation, limits);
  const wholeBuffer = bufferBytes <= limits.maxBindingBytes;
  const perWindow = Math.floor((limits.maxBindingBytes - limits.offsetAlignment) / bytesPerElement / 16) * 16;
  const cap = wholeBuffer ? perDispatch : Math.min(perDispatch, perWindow);
  if (cap < 16) {
    throw new RangeError(
      `WebGPU limits too small to dispatch anything (maxStorageBufferBindingSize ${limits.maxBindingBytes}, ` +
        `maxComputeWorkgroupsPerDimension ${limits.maxWorkgroupsPerDimension}); use a device with larger limits or backend 'wasm'`,
    );
  }
  const chunks: Chunk[] = [];
  for (let at = start; at < start + count; at += cap) {
    const n = Math.min(cap, start + count - at);
    if (wholeBuffer) {
      chunks.push({ start: at, count: n, windowOffset: 0, windowSize: bufferBytes, base: at });
      continue;
    }
    const windowOffset = Math.floor((at * bytesPerElement) / limits.offsetAlignment) * limits.offsetAlignment;
    const base = at - windowOffset / bytesPerElement;
    const windowSize = Math.min(bufferBytes - windowOffset, roundUp((base + n) * bytesPerElement, 16));
    chunks.push({ start: at, count: n, windowOffset, windowSize, base });
  }
  return chunks;
}

/** A 1-D grid when it fits one dimension, else the squarest 2-D grid that covers the invocations. */
export function gridFor(invocations: number, maxWorkgroupsPerDimension: number): Grid {
  const groups = Math.max(1, Math.ceil(invocations / WORKGROUP_SIZE));
  if (groups > maxWorkgroupsPerDimension * maxWorkgroupsPerDimension) {
    throw new RangeError(`internal: ${invocations} invocations exceed one dispatch (plan chunks first)`);
  }
  const y = Math.ceil(groups / maxWorkgroupsPerDimension);
  const x = Math.ceil(groups / y);
  return { x, y, rowSize: x * WORKGROUP_SIZE };
}
