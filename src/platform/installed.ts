// The platform as the published package sees it (rollup.config.mjs substitutes this module for
// ./node.ts in dist/): the browser platform until the Node entry (src/node.ts, the package's
// "node" and "deno" export condition) installs the Node one. So dist/index.js and its chunks
// import nothing but relative paths: a browser loads them unbundled (a CDN, a file:// page) and
// bundlers never meet a node: specifier or the Dawn package.
import * as browser from './browser.js';
import type * as NodePlatform from './node.js';

type Platform = typeof NodePlatform;

let current: Platform = browser;

/** Called once by the Node entry, before any user code runs. */
export function installPlatform(platform: Platform): void {
  current = platform;
}

/** Platform[name], calling whichever platform is installed at call time. */
function delegate<K extends keyof Platform>(name: K): Platform[K] {
  return ((...args: unknown[]) => (current[name] as (...a: unknown[]) => unknown)(...args)) as Platform[K];
}

export const createNodeAdapter = delegate('createNodeAdapter');
export const getNodeGpu = delegate('getNodeGpu');
export const releaseNodeGpu = delegate('releaseNodeGpu');
export const trackNodeDevice = delegate('trackNodeDevice');
export const saveCheckpointFile = delegate('saveCheckpointFile');
export const loadCheckpointFile = delegate('loadCheckpointFile');
export const saveCheckpoint = delegate('saveCheckpoint');
export const loadCheckpoint = delegate('loadCheckpoint');
export const readFileUrl = delegate('readFileUrl');
export const availableCores = delegate('availableCores');
