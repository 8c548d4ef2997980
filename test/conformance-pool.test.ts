// The conformance suite on the wasm backend sharded over 1, 2 and 3 worker threads (plus the main
// thread). minElementsPerWorker is tiny so the suite's sizes really are split — including sizes
// such as 37 + 21 elements that do not divide evenly into 16-aligned shards.
import { createRuntime } from '../src/index.js';
import { defineConformanceSuite } from './conformance/suite.js';

for (const workers of [1, 2, 3]) {
  defineConformanceSuite(`wasm pool, ${workers} worker(s)`, async () => {
    const rt = await createRuntime({ backend: 'wasm', workers, minElementsPerWorker: 16 });
    if (rt.workers !== workers) throw new Error(`expected ${workers} workers, the runtime uses ${rt.workers}: ${rt.explain().reason}`);
    return rt;
  });
}
