// The bench's Node (and Deno) host: process CPU time from process.cpuUsage, TensorFlow.js from
// node_modules with its .wasm binaries located through the package resolver, and (in `suites`)
// any suite that needs Node to run.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { BenchHost } from './host.js';
import { runFederatedSuite } from './suites/federated.js';
import { runPosteriorSuite } from './suites/posterior.js';
import { loadTfjsWasm } from './tfjs.js';

export const NODE_HOST: BenchHost = {
  cpuTimeMs: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
  loadTfjs: () => loadTfjsWasm((packageName) => `${dirname(createRequire(import.meta.url).resolve(packageName))}/`),
  // posterior reads the vendored digits file (src/cli/digits.ts, node:fs); federated runs an MQTT broker in this process.
  suites: { posterior: runPosteriorSuite, federated: runFederatedSuite },
};
