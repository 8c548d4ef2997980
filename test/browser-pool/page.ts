// Runs in the Chromium page: the program on 0 (main thread only) to 3 workers.
import { trainProgram, type ProgramResult } from './program.js';

(globalThis as { runPool?: () => Promise<unknown> }).runPool = async () => {
  const results: ProgramResult[] = [];
  for (const workers of [0, 1, 2, 3]) results.push(await trainProgram({ backend: 'wasm', workers, minElementsPerWorker: 16 }));
  return { crossOriginIsolated: globalThis.crossOriginIsolated, hasSharedArrayBuffer: typeof SharedArrayBuffer === 'function', results };
};
