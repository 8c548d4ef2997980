// Public entry of the checkpoint module: bytes <-> OptimizerSnapshot, plus file helpers for
// Node/Deno (node:fs; src/platform/ keeps it out of browser bundles) and browsers (OPFS, Blob).

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
// File helpers come through the platform (src/platform/): real in Node and Deno, an error saying
// what to use instead in browser bundles.
export { loadCheckpoint, loadCheckpointFile, saveCheckpoint, saveCheckpointFile } from '../platform/node.js';
export { downloadCheckpoint, loadCheckpointFromOpfs, saveCheckpointToOpfs } from './files-browser.js';
