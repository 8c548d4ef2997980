// The package's entry for Node and Deno (the "node" and "deno" export conditions): the whole
// public surface of ./index.ts, with the Node platform (worker_threads, Dawn WebGPU, checkpoint
// files) installed first. Browsers get ./index.ts alone. In the sources (tests, tools) the
// library imports ./platform/node.ts directly, so this file matters only in dist/.
import * as nodePlatform from './platform/node.js';
import { installPlatform } from './platform/installed.js';

installPlatform(nodePlatform);

export * from './index.js';
