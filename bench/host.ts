// What the harness needs from the place it runs in, and nothing else: a CPU clock where there is
// one, TensorFlow.js for the yardstick rows, and options every runtime gets (the browser page's
// worker URL). The suites see only this, so they run unchanged in Node (bench/host-node.ts) and
// in a browser page (bench/web/page.ts).

import type { RuntimeOptions } from '../src/runtime.js';
import type { SuiteContext } from './context.js';
import type { SuiteName } from './options.js';
import type { LoadedTf } from './tfjs.js';

export interface BenchHost {
  /**
   * CPU time of the whole process in ms, every thread counted (Node: process.cpuUsage), or
   * undefined where the platform has no such clock (browsers). CPU/wall ≈ threads busy: a
   * speed-up from N threads is only one when it is ≈ N (PLATFORM.md).
   */
  cpuTimeMs?: () => number;
  /** TensorFlow.js on its wasm backend for the yardstick rows, or why it is not there. */
  loadTfjs(): Promise<LoadedTf | string>;
  /** Merged into every createRuntime call the suites make. */
  runtimeOptions?: RuntimeOptions;
  /** Suites only this host can run (bench/harness.ts runs the portable ones everywhere). */
  suites?: Partial<Record<SuiteName, (ctx: SuiteContext) => Promise<void>>>;
}

/** A host that offers nothing optional: no CPU clock, no TensorFlow.js. */
export const BARE_HOST: BenchHost = {
  loadTfjs: async () => 'TensorFlow.js is not available on this host',
};
