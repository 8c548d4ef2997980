// What this platform really offers, measured instead of assumed: a WebGPU adapter and its limits,
// WebAssembly with SIMD, shared memory for worker threads, and the core count. The result is a
// plain object (PlatformProbe) so the backend choice (select.ts) is a pure function of it and can
// be tested against simulated platforms (no adapter, no SIMD, no SharedArrayBuffer, one core).

import { detectEnvironment, type Environment } from '../../workers/environment.js';
import { availableCores } from '../platform/node.js';

export interface WebGpuProbe {
  available: boolean;
  /** Vendor / architecture / description of the adapter. */
  adapter?: string;
  /** SwiftShader, lavapipe or a fallback adapter: correct but slower than WASM on the CPU. */
  software?: boolean;
  limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number };
  /** Why no adapter, when none. */
  reason?: string;
}

export interface WasmProbe {
  available: boolean;
  /** A module using a v128 instruction validates. The kernels need it. */
  simd: boolean;
  reason?: string;
}

export interface SharedMemoryProbe {
  /** Worker threads can share one WebAssembly.Memory (everything below holds). */
  available: boolean;
  sharedArrayBuffer: boolean;
  /** Browsers: the page is cross-origin isolated (COOP/COEP). null where the notion does not exist. */
  crossOriginIsolated: boolean | null;
  /** new WebAssembly.Memory({ shared: true }) works (the WASM threads proposal). */
  sharedWasmMemory: boolean;
  /** Atomics.waitAsync exists (the main thread waits for workers without blocking); else polling. */
  atomicsWaitAsync: boolean;
  /** This environment can start workers at all. */
  workers: boolean;
  reason?: string;
}

export interface PlatformProbe {
  environment: Environment;
  cores: number;
  webgpu: WebGpuProbe;
  wasm: WasmProbe;
  sharedMemory: SharedMemoryProbe;
}

/** A module whose one function returns i32x4.splat(0): it validates only where SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b, // code: i32.const 0; i32x4.splat; end
]);

export function probeWasm(): WasmProbe {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
    return { available: false, simd: false, reason: 'WebAssembly is not available (disabled by policy, or a JIT-less engine)' };
  }
  let simd = false;
  try {
    simd = WebAssembly.validate(SIMD_PROBE);
  } catch {
    simd = false;
  }
  return simd ? { available: true, simd } : { available: true, simd, reason: 'WebAssembly SIMD (v128) is not supported by this engine' };
}

/** Why a page has no SharedArrayBuffer, and what the app can do about it (docs/HOSTS.md). */
function whyNoSharedArrayBuffer(crossOriginIsolated: boolean | null): string {
  const g = globalThis as { location?: { protocol?: string }; isSecureContext?: boolean };
  if (g.location?.protocol === 'file:') {
    return 'SharedArrayBuffer is unavailable because the page was opened from file://, which cannot be cross-origin isolated (Electron: load the app from a privileged custom protocol whose responses carry COOP/COEP headers; docs/HOSTS.md)';
  }
  if (g.isSecureContext === false) {
    return 'SharedArrayBuffer is unavailable because the page is not a secure context (plain http:// on an address other than localhost): serve it over https with COOP/COEP headers';
  }
  return crossOriginIsolated === false
    ? 'SharedArrayBuffer is unavailable because the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
    : 'SharedArrayBuffer is unavailable here (Android WebView, Electron file://, or disabled)';
}

export function probeSharedMemory(environment: Environment): SharedMemoryProbe {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown };
  const sharedArrayBuffer = typeof g.SharedArrayBuffer === 'function';
  const crossOriginIsolated = typeof g.crossOriginIsolated === 'boolean' ? g.crossOriginIsolated : null;
  let sharedWasmMemory = false;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    sharedWasmMemory = sharedArrayBuffer && memory.buffer instanceof (g.SharedArrayBuffer as typeof SharedArrayBuffer);
  } catch {
    sharedWasmMemory = false;
  }
  const atomicsWaitAsync = typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function';
  const workers = environment === 'node' || typeof g.Worker === 'function';
  const reasons: string[] = [];
  if (!sharedArrayBuffer) {
    reasons.push(whyNoSharedArrayBuffer(crossOriginIsolated));
  } else if (crossOriginIsolated === false) {
    reasons.push('the page is not cross-origin isolated (COOP/COEP headers missing), so shared memory cannot be sent to workers');
  }
  if (sharedArrayBuffer && !sharedWasmMemory) reasons.push('shared WebAssembly.Memory (WASM threads) is not supported');
  if (!workers) reasons.push('this environment cannot start workers');
  const available = sharedArrayBuffer && crossOriginIsolated !== false && sharedWasmMemory && workers;
  const probe: SharedMemoryProbe = { available, sharedArrayBuffer, crossOriginIsolated, sharedWasmMemory, atomicsWaitAsync, workers };
  if (!available) probe.reason = reasons.join('; ');
  return probe;
}

export async function probeCores(): Promise<number> {
  const fromNavigator = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (typeof fromNavigator === 'number' && fromNavigator >= 1) return fromNavigator;
  return (await availableCores()) ?? 1;
}

export async function probeWebGpu(): Promise<WebGpuProbe> {
  try {
    const { getGpu } = await import('../../gpu/gpu-provider.js');
    const source = await getGpu();
    if (!source) return { available: false, reason: "no WebGPU implementation (no navigator.gpu; in Node: the 'webgpu' package is missing, or on Linux no Vulkan driver is installed — e.g. apt-get install libvulkan1 mesa-vulkan-drivers, or the GPU vendor's driver)" };
    const adapter = await source.gpu.requestAdapter();
    if (!adapter) return { available: false, reason: `${source.name} offers no adapter (no GPU driver, or WebGPU disabled)` };
    const info = adapter.info ?? ({} as GPUAdapterInfo);
    const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
    const software =
      /swiftshader|llvmpipe|lavapipe|software|microsoft basic/i.test(description) || Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter);
    return {
      available: true,
      adapter: description,
      software,
      limits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
      },
    };
  } catch (error) {
    return { available: false, reason: `probing WebGPU failed: ${(error as Error).message}` };
  }
}

/** Which probes to run: WebGPU is skipped when no candidate backend could use it (it loads Dawn in Node). */
export interface ProbeRequest {
  webgpu: boolean;
}

const NOT_PROBED: WebGpuProbe = { available: false, reason: 'not probed (webgpu is not among the requested backends)' };

export async function probePlatform(request: ProbeRequest): Promise<PlatformProbe> {
  const environment = detectEnvironment();
  return {
    environment,
    cores: await probeCores(),
    webgpu: request.webgpu ? await probeWebGpu() : NOT_PROBED,
    wasm: probeWasm(),
    sharedMemory: probeSharedMemory(environment),
  };
}
