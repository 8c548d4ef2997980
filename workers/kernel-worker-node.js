// @ts-check
// Kernel worker entry for Node worker_threads: comlink over parentPort (through comlink's node
// adapter); dying abruptly is process.exit, which ends only this thread. The thread's 'exit' event
// (process.exit, an uncaught error) marks its control slot, so a main thread blocked in a
// synchronous sharded GEMM learns of the death at once instead of at the timeout.
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { startKernelWorker } from './kernel-worker-core.js';

if (!parentPort) throw new Error('kernel-worker-node.js must run as a worker_threads Worker');
const worker = startKernelWorker(nodeEndpoint(parentPort), () => process.exit(1));
process.on('exit', () => worker.announceDeath());
