// @ts-check
// Kernel worker entry for Node worker_threads: comlink over parentPort (through comlink's node
// adapter); dying abruptly is process.exit, which ends only this thread.
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { startKernelWorker } from './kernel-worker-core.js';

if (!parentPort) throw new Error('kernel-worker-node.js must run as a worker_threads Worker');
startKernelWorker(nodeEndpoint(parentPort), () => process.exit(1));
