// Picks the model toolkit's compute for a runtime: the WASM SIMD kernels on the WASM backend's own
// memory when it offers nnHost() (so weights, gradients and activations share one memory and the
// model reads ctx.theta / writes ctx.grad in place), plain TypeScript otherwise. With the worker
// pool (a WasmBackend on a shared memory) the model's kernels run on the calling thread's instance.
// The WebGPU backend keeps weights on the GPU, where these CPU kernels cannot read them.
import type { Runtime } from '../runtime.js';
import { JsOps, type NnOps } from './ops.js';
import { WasmOps, type NnKernelExports, type WasmNnHost } from './ops-wasm.js';

/** What the WASM backend offers the model toolkit (WasmBackend.nnHost in src/backends/wasm.ts). */
export interface HasNnHost {
  nnHost(): { memory: WebAssembly.Memory; exports: unknown; alloc(bytes: number): number };
}

function hasNnHost(x: unknown): x is HasNnHost {
  return typeof (x as Partial<HasNnHost>)?.nnHost === 'function';
}

/** True when the backend's module carries the model kernels (assembly/index.ts re-exports nn.ts). */
function hasNnKernels(exports: unknown): exports is NnKernelExports {
  const e = exports as Partial<Record<keyof NnKernelExports, unknown>>;
  return typeof e?.nnGemm === 'function' && typeof e.nnGemmPackFloats === 'function' && typeof e.nnBiasAdd === 'function';
}

export function createNnOps(runtime: Runtime): NnOps {
  const compute = runtime.compute;
  if (compute.kind === 'webgpu') {
    throw new Error("createNnOps: the model toolkit's kernels run on the 'js' and 'wasm' backends; create the runtime with backend: 'wasm' (or 'js') to train a model");
  }
  if (compute.kind === 'wasm' && hasNnHost(compute)) {
    const host = compute.nnHost();
    if (!hasNnKernels(host.exports)) {
      throw new Error('createNnOps: the WASM module in use lacks the model kernels (nnGemm, …); build it from assembly/index.ts (npm run build:wasm) or pass a module that re-exports assembly/nn.ts');
    }
    const wasmHost: WasmNnHost = { memory: host.memory, exports: host.exports, alloc: (bytes) => host.alloc(bytes) };
    return new WasmOps(wasmHost);
  }
  return new JsOps();
}
