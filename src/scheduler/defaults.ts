// The scheduler's tunables in one place, each with where its number came from.

/**
 * 'auto' picks WebGPU only for models of at least this many parameter elements. An optimizer step
 * on the GPU pays fixed round trips (sample + flush, the non-finite check's readback, update +
 * flush) that a CPU step does not; below the size where the WASM step costs as much, the CPU wins.
 * Measured (workers/measure-scaling.ts --gpu, H100 80GB through Dawn/Vulkan, Xeon 16 cores):
 * WebGPU step 1.02 ms flat up to 1M elements (1.26 ms at 4M); WASM step 1.96 ms at 262144 on one
 * thread (crossover ≈ 136k) and 0.54–0.77 ms with 15 workers (crossover ≈ 500k). 262144 sits
 * between the two. Override with createRuntime({ gpuMinElements }) for your device.
 */
export const DEFAULT_GPU_MIN_ELEMENTS = 262_144;

/**
 * Shards smaller than this stay on the calling thread. Measured (workers/measure-scaling.ts,
 * 16-core Xeon): a sharded call costs 21–29 µs more than the same call inline with 2–5 threads,
 * ~49 µs with 9 and ~94 µs with 16; one thread runs a whole IVON step (sample, non-finite check,
 * fused update: three calls) at ~7.5 ns/element, so a 32k-element shard carries ~80 µs of work per
 * call. With this default the whole step with workers ran 1.08–5.2x the single thread from 64k to
 * 16M elements, apart from two noise-level cases (0.92x at 1M with 1 worker, 0.97x at 64k with 8).
 */
export const DEFAULT_MIN_ELEMENTS_PER_WORKER = 32_768;

/** A kernel whose workers have not all finished after this long fails (the worker is replaced). */
export const DEFAULT_WORKER_TIMEOUT_MS = 30_000;
