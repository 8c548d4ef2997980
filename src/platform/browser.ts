// The browser (and any non-Node) platform (see ./node.ts and ./installed.ts): the same exports, none of
// which touches a Node module. Checkpoint files and worker_threads fail with an error that says
// what to use instead; Dawn, file: URLs and node:os are simply absent.

import type { WorkerAdapter } from '../../workers/adapter.js';
import { CheckpointError } from '../checkpoint/errors.js';
import type * as NodePlatform from './node.js';

const NOT_NODE = 'this is the browser entry of ivon-edge (the package resolved without the "node" or "deno" export condition)';

export async function createNodeAdapter(): Promise<WorkerAdapter> {
  throw new Error(`Node worker_threads are unavailable: ${NOT_NODE}. Run under Node, or bundle for Node (webpack target 'node', esbuild platform 'node')`);
}

export async function getNodeGpu(): Promise<GPU | undefined> {
  return undefined;
}

export function releaseNodeGpu(): void {}

export function trackNodeDevice(_device: GPUDevice): void {}

function noFiles(): never {
  throw new CheckpointError(
    `checkpoint files need Node or Deno: ${NOT_NODE}`,
    'In browsers use saveCheckpointToOpfs / loadCheckpointFromOpfs, downloadCheckpoint, or encodeCheckpoint / decodeCheckpoint with your own storage',
  );
}

export const saveCheckpointFile: typeof NodePlatform.saveCheckpointFile = async () => noFiles();
export const loadCheckpointFile: typeof NodePlatform.loadCheckpointFile = async () => noFiles();
export const saveCheckpoint: typeof NodePlatform.saveCheckpoint = async () => noFiles();
export const loadCheckpoint: typeof NodePlatform.loadCheckpoint = async () => noFiles();

export async function readFileUrl(url: URL): Promise<ArrayBuffer> {
  throw new Error(`cannot read ${url.href}: file: URLs are readable only in Node and Deno; serve the file over http(s), or pass its bytes`);
}

export async function availableCores(): Promise<number | undefined> {
  return undefined;
}

// Both sides must export the same names with the same types: a compile error here names the one
// that drifted.
const _sameSurface: typeof NodePlatform = {
  createNodeAdapter, getNodeGpu, releaseNodeGpu, trackNodeDevice,
  saveCheckpointFile, loadCheckpointFile, saveCheckpoint, loadCheckpoint, readFileUrl, availableCores,
};
void _sameSurface;
