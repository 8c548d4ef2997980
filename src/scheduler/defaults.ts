// The scheduler's tunables in one place, each with where its number came from.

/**
 * 'auto' picks WebGPU only for models of at least this many parameter elements. A GPU step pays a
 * fixed submit + readback latency (the non-finite check reads back every step) that a CPU step
 * does not; below the size where the WASM step time equals that latency, the CPU wins.
 * How it is measured: time the whole IVON step (sample, count non-finite, update) on both
 * backends over growing sizes (bench/, or scripts in the issue 4 report) and take the crossover.
 * PROVISIONAL until measured on a hardware GPU: WASM step ≈ 1 ns/element (2-core dev machine),
 * assumed GPU step floor ≈ 0.25 ms. Override with createRuntime({ gpuMinElements }).
 */
export const DEFAULT_GPU_MIN_ELEMENTS = 262_144;

/**
 * Shards smaller than this stay on the calling thread. A sharded call costs a fixed wake-up and
 * join (measured ~20–40 µs on the dev machine, see the issue 4 report) while the memory-bound IVON
 * update moves ~1 element/ns per thread; 32k elements per shard keeps that overhead under ~1/2 of
 * the shard's work at worst, so a step with workers is never slower than without.
 */
export const DEFAULT_MIN_ELEMENTS_PER_WORKER = 32_768;

/** A kernel whose workers have not all finished after this long fails (the worker is replaced). */
export const DEFAULT_WORKER_TIMEOUT_MS = 30_000;
