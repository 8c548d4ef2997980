// Everything that only Node can do (and Deno, through its Node compatibility), in one module:
// worker_threads workers, Dawn WebGPU (npm `webgpu`), checkpoint files, reading file: URLs and
// counting cores. The rest of the library imports these from here and nowhere else.
//
// In the published package only the Node entry (src/node.ts) imports this module; the rest of the
// library reaches it through ./installed.ts, which starts as ./browser.ts, so a browser bundle
// never contains a node: specifier or the Dawn package (rollup.config.mjs). The node: modules are
// still imported lazily, so the library's own browser tests, which bundle the sources directly,
// can include this file without loading them.

export { createNodeAdapter } from '../../workers/adapter-node.js';
export { getNodeGpu, releaseNodeGpu, trackNodeDevice } from '../../gpu/node-webgpu.js';
export { loadCheckpoint, loadCheckpointFile, saveCheckpoint, saveCheckpointFile } from '../checkpoint/files-node.js';

/** The bytes of a file: URL (Node's fetch cannot read file: URLs). */
export async function readFileUrl(url: URL): Promise<ArrayBuffer> {
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(url);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Logical cores this process may use, or undefined where node:os is not available. */
export async function availableCores(): Promise<number | undefined> {
  try {
    const os = await import('node:os');
    return os.availableParallelism ? os.availableParallelism() : Math.max(1, os.cpus().length);
  } catch {
    return undefined;
  }
}
