// Where the GPU object comes from, decided in one place: `navigator.gpu` in browsers and Deno,
// Dawn (npm `webgpu`) in Node. The rest of gpu/ never asks which environment it is in.

import { getNodeGpu, releaseNodeGpu, trackNodeDevice } from '../src/platform/node.js';

export interface GpuSource {
  readonly name: 'navigator.gpu' | 'dawn-node';
  readonly gpu: GPU;
  /** Registers a device this library created, for teardown. */
  track(device: GPUDevice): void;
}

type MaybeNavigator = { navigator?: { gpu?: GPU } };

const sources: Array<() => Promise<GpuSource | undefined>> = [
  async () => {
    const gpu = (globalThis as MaybeNavigator).navigator?.gpu;
    return gpu ? { name: 'navigator.gpu', gpu, track: () => {} } : undefined;
  },
  async () => {
    const gpu = await getNodeGpu();
    return gpu ? { name: 'dawn-node', gpu, track: trackNodeDevice } : undefined;
  },
];

/** The first WebGPU implementation this environment offers, or undefined. */
export async function getGpu(): Promise<GpuSource | undefined> {
  for (const source of sources) {
    const found = await source();
    if (found) return found;
  }
  return undefined;
}

/** Destroys the devices this library created and releases Dawn (Node teardown; harmless elsewhere). */
export function releaseGpu(): void {
  releaseNodeGpu();
}
