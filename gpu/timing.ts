// Timing helpers for benchmarks of the WebGPU backend. Host time is taken around a batch of calls
// and a flush (queue.onSubmittedWorkDone), so it includes submission overhead; GPU time comes
// from timestamp-query when the device has that feature (each compute pass writes begin/end
// stamps), else it is reported as undefined. A copy probe gives the achievable bandwidth in the
// same run, so kernels are judged against the memory they must move.

import type { Arena, Range } from '../src/backend.js';
import { BufferUsage, MapMode } from './usage.js';
import type { WebGpuBackend } from './webgpu-backend.js';

export interface KernelTiming {
  /** Mean host milliseconds per repetition (submit to onSubmittedWorkDone, amortised). */
  hostMs: number;
  /** Mean GPU milliseconds per repetition summed over its compute passes, if timestamp-query exists. */
  gpuMs: number | undefined;
  repetitions: number;
}

export function hasTimestamps(backend: WebGpuBackend): boolean {
  return backend.device.features.has('timestamp-query');
}

/**
 * Runs `work` `warmup` times, then `repetitions` times timed. `work` enqueues kernels on the
 * backend (no awaits needed); at most 2048 passes are timestamped.
 */
export async function timeKernels(backend: WebGpuBackend, work: () => void, repetitions = 20, warmup = 3): Promise<KernelTiming> {
  for (let i = 0; i < warmup; i++) work();
  await backend.flush();
  const capacity = 4096; // the largest query set WebGPU allows
  const querySet = hasTimestamps(backend) ? backend.device.createQuerySet({ type: 'timestamp', count: capacity }) : undefined;
  backend.recordTimestamps(querySet, capacity);
  const start = performance.now();
  for (let i = 0; i < repetitions; i++) work();
  await backend.flush();
  const hostMs = (performance.now() - start) / repetitions;
  const used = backend.recordTimestamps(undefined);
  let gpuMs: number | undefined;
  if (querySet && used > 0) {
    gpuMs = (await sumPassNanoseconds(backend.device, querySet, used)) / 1e6 / repetitions;
  }
  querySet?.destroy();
  return { hostMs, gpuMs, repetitions };
}

async function sumPassNanoseconds(device: GPUDevice, querySet: GPUQuerySet, used: number): Promise<number> {
  const bytes = used * 8;
  const resolve = device.createBuffer({ size: bytes, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.resolveQuerySet(querySet, 0, used, resolve, 0);
  encoder.copyBufferToBuffer(resolve, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(MapMode.READ);
  const stamps = new BigUint64Array(readback.getMappedRange().slice(0));
  readback.destroy();
  resolve.destroy();
  let total = 0n;
  for (let i = 0; i + 1 < used; i += 2) if (stamps[i + 1] > stamps[i]) total += stamps[i + 1] - stamps[i];
  return Number(total);
}

/** GB/s of the copy probe (dst = src over `range`, 8 bytes per element moved) on this arena. */
export async function copyBandwidth(backend: WebGpuBackend, arena: Arena, dst: 'theta' | 'noise' | 'grad', src: 'mean' | 'hess', range: Range, repetitions = 20): Promise<{ hostGBs: number; gpuGBs: number | undefined }> {
  const t = await timeKernels(backend, () => backend.copyKernel(arena, dst, src, range), repetitions);
  const bytes = range.count * 8;
  return { hostGBs: bytes / (t.hostMs * 1e6), gpuGBs: t.gpuMs ? bytes / (t.gpuMs * 1e6) : undefined };
}
