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
 * fused update: three calls) at ~7.5 ns/element. On the project's 2-core machine
 * (bench/results/cpu-2core.txt, workers suite) waking the one worker is far less predictable: the
 * whole step with 1 worker ran 0.58–1.05x the main thread alone at 64k elements (two runs) and
 * 1.39–1.73x from 1M up. 128k-element shards (≈ 1 ms of work per step) keep 64k models on one
 * thread and every size from 256k up sharded.
 */
export const DEFAULT_MIN_ELEMENTS_PER_WORKER = 131_072;

/** A kernel whose workers have not all finished after this long fails (the worker is replaced). */
export const DEFAULT_WORKER_TIMEOUT_MS = 30_000;
