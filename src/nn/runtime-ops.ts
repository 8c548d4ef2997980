// Picks the model toolkit's compute for a runtime: the WASM SIMD kernels on the WASM backend's own
// memory when it offers nnHost() (so weights, gradients and activations share one memory and the
// model reads ctx.theta / writes ctx.grad in place), plain TypeScript otherwise. With the worker
// pool (a WasmBackend on a shared memory) large GEMMs are split by output rows over the workers
// (PoolBackend.nnHost swaps in the sharded nnGemm); the small kernels run on the calling thread.
// On the WebGPU backend the model runs on the GPU too (gpu/nn/), reading θ from and writing
// gradients into the optimizer's GPU buffers; one GpuNnOps (compiled pipelines) per device.
import type { Runtime } from '../runtime.js';
import { GpuNnOps } from '../../gpu/nn/gpu-ops.js';
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

const gpuOpsByDevice = new WeakMap<GPUDevice, GpuNnOps>();

/**
 * The model's compute on any backend: GpuNnOps on webgpu (Sequential.bind then gives a
 * GpuNetwork that fit/predictBma/predictAtMean run on the GPU), createNnOps(runtime) otherwise.
 */
export function createModelOps(runtime: Runtime): NnOps | GpuNnOps {
  const compute = runtime.compute;
  if (compute.kind !== 'webgpu') return createNnOps(runtime);
  const device = (compute as { device?: GPUDevice }).device;
  if (!device) throw new Error("createModelOps: this webgpu backend exposes no GPUDevice; create the runtime with createRuntime({ backend: 'webgpu' })");
  let ops = gpuOpsByDevice.get(device);
  if (!ops) gpuOpsByDevice.set(device, (ops = new GpuNnOps(device)));
  return ops;
}

/** The CPU model kernels (Float32Array operands) of a js or wasm runtime. */
export function createNnOps(runtime: Runtime): NnOps {
  const compute = runtime.compute;
  if (compute.kind === 'webgpu') {
    throw new Error("createNnOps: these are the CPU kernels of the 'js' and 'wasm' backends; on a webgpu runtime use createModelOps(runtime), whose ops bind a GpuNetwork that trains on the GPU");
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
