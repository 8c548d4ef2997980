// Public entry of the checkpoint module: bytes <-> OptimizerSnapshot, plus file helpers for
// Node/Deno (node:fs, imported lazily so browser bundles never load it) and browsers (OPFS, Blob).

export { CheckpointError } from './errors.js';
export { FORMAT_NAME, FORMAT_VERSION } from './format.js';
export {
  decodeCheckpoint,
  encodeCheckpoint,
  exportMeans,
  MEANS_FORMAT_NAME,
  type CheckpointExpectation,
  type DecodeOptions,
} from './checkpoint.js';
export { loadCheckpoint, loadCheckpointFile, saveCheckpoint, saveCheckpointFile } from './files-node.js';
export { downloadCheckpoint, loadCheckpointFromOpfs, saveCheckpointToOpfs } from './files-browser.js';
