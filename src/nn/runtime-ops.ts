// Picks the model toolkit's compute for a runtime: the WASM SIMD kernels when the runtime's WASM
// backend exposes its module (so weights and activations share one memory), plain TypeScript
// otherwise. The WebGPU backend keeps weights on the GPU, where these CPU kernels cannot read them.
import type { Runtime } from '../runtime.js';
import { JsOps, type NnOps } from './ops.js';
import { WasmOps, type WasmNnHost } from './ops-wasm.js';

/** What the WASM backend offers the model toolkit: its memory, its exports and its allocator. */
export interface HasNnHost {
  nnHost(): WasmNnHost;
}

function hasNnHost(x: unknown): x is HasNnHost {
  return typeof (x as Partial<HasNnHost>)?.nnHost === 'function';
}

export function createNnOps(runtime: Runtime): NnOps {
  const compute = runtime.compute;
  if (compute.kind === 'webgpu') {
    throw new Error("createNnOps: the model toolkit's kernels run on the 'js' and 'wasm' backends; create the runtime with backend: 'wasm' (or 'js') to train a model");
  }
  if (compute.kind === 'wasm' && hasNnHost(compute)) return new WasmOps(compute.nnHost());
  return new JsOps();
}
