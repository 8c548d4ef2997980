// Device negotiation: find an adapter, ask it for the largest buffers and grids it offers (the
// defaults cap a binding at 128 MiB), step down to the defaults if that request fails, and check
// what the kernels cannot do without. Every failure says what the user can do about it.

import { WebGpuLimitError, WebGpuUnavailableError } from './errors.js';
import { getGpu } from './gpu-provider.js';

export interface DeviceOptions {
  /** Use this device (the caller keeps ownership: dispose() will not destroy it). */
  device?: GPUDevice;
  /** Request the device from this adapter. */
  adapter?: GPUAdapter;
  /** GPUPowerPreference, spelled out: the public types name no WebGPU type aliases (rollup.config.mjs). */
  powerPreference?: 'low-power' | 'high-performance';
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter | undefined;
  /** Whether dispose() should destroy the device. */
  ownsDevice: boolean;
  /** Adapter vendor / architecture / description, for explain() and benchmarks. */
  adapterDescription: string;
  /** SwiftShader, lavapipe/llvmpipe or a fallback adapter: correctness only, not performance. */
  isSoftware: boolean;
}

/** What the kernels need at least (every conformant adapter has these defaults). */
const REQUIRED: Record<string, number> = {
  maxStorageBuffersPerShaderStage: 5,
  maxComputeInvocationsPerWorkgroup: 64,
  maxComputeWorkgroupSizeX: 64,
  maxUniformBufferBindingSize: 96,
  maxStorageBufferBindingSize: 64 * 1024,
};

/**
 * The limits requested at their adapter maximum. maxStorageBuffersPerShaderStage: the one-pass
 * step reading ε drawn ahead with a per-element prior binds 9 buffers, one over the default 8.
 */
const WANTED = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage'] as const;

const NO_ADAPTER_HINT =
  "In Node, install a Vulkan driver (Debian: `apt-get install libvulkan1 mesa-vulkan-drivers`, or the GPU vendor's driver; " +
  'without a GPU, set VK_ICD_FILENAMES to a SwiftShader ICD such as /usr/lib/chromium/vk_swiftshader_icd.json). ' +
  'In Chromium on Linux, start it with --enable-unsafe-webgpu (and --enable-features=Vulkan). ' +
  "Or create the runtime with backend: 'wasm'.";

export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  if (options.device) {
    checkRequired(options.device.limits);
    return { device: options.device, adapter: options.adapter, ownsDevice: false, adapterDescription: 'caller-provided GPUDevice', isSoftware: false };
  }
  let adapter = options.adapter;
  let track: (device: GPUDevice) => void = () => {};
  if (!adapter) {
    const source = await getGpu();
    if (!source) {
      throw new WebGpuUnavailableError(
        "WebGPU is not available here: no navigator.gpu and the npm package 'webgpu' (Dawn for Node) could not be loaded. " +
          "Install it with `npm install webgpu` for Node, use a browser or Deno with WebGPU, or choose backend: 'wasm'.",
      );
    }
    track = source.track;
    adapter = (await source.gpu.requestAdapter({ powerPreference: options.powerPreference })) ?? undefined;
    if (!adapter) throw new WebGpuUnavailableError(`No WebGPU adapter was found (${source.name}). ${NO_ADAPTER_HINT}`);
  }
  const device = await requestDeviceSteppingDown(adapter);
  track(device);
  checkRequired(device.limits);
  const info = adapter.info;
  const adapterDescription = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
  const isSoftware = /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(adapterDescription) || Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  return { device, adapter, ownsDevice: true, adapterDescription, isSoftware };
}

async function requestDeviceSteppingDown(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  try {
    return await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'ivon-edge' });
  } catch {
    // Some implementations refuse their own maxima; the defaults still run everything (in more chunks).
    try {
      return await adapter.requestDevice({ label: 'ivon-edge' });
    } catch (err) {
      throw new WebGpuUnavailableError(`The WebGPU adapter refused to create a device (${(err as Error).message}). ${NO_ADAPTER_HINT}`);
    }
  }
}

function checkRequired(limits: GPUSupportedLimits): void {
  for (const [name, need] of Object.entries(REQUIRED)) {
    const have = limits[name as keyof GPUSupportedLimits] as number;
    if (have < need) {
      throw new WebGpuLimitError(
        `The WebGPU device's ${name} is ${have}; ivon-edge needs at least ${need}. Use another adapter (powerPreference) or backend: 'wasm'.`,
      );
    }
  }
}
