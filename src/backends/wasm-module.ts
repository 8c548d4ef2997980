// Loading the AssemblyScript kernel module (assembly/, built by scripts/build-wasm.mjs) and
// instantiating it against a memory that JS owns. Kept apart from the backend so the worker pool
// can compile once, send the WebAssembly.Module to its workers and instantiate it there against
// one shared memory. Always compiles asynchronously from bytes: compileStreaming alone breaks
// where file:// or a CDN serves the wrong MIME type (PLATFORM.md, "Shipping WASM everywhere").

import { readFileUrl } from '../platform/node.js';

/** Where the kernels come from: the embedded module (default) or a user override. */
export type WasmModuleSource = WebAssembly.Module | ArrayBuffer | Uint8Array | URL | string;

/** Elementwise kernels a KernelCall can name (docs/KERNELS.md §2). */
export type ElementwiseKernel =
  | 'fillNormal'
  | 'ivonSample'
  | 'ivonSampleGiven'
  | 'ivonAccumulate'
  | 'ivonUpdate'
  | 'ivonUpdateFused'
  | 'ivonDraw'
  | 'ivonUpdateRedraw'
  | 'ivonUpdateAndDraw'
  | 'ivonUpdateFusedAndSample'
  | 'adamwUpdate'
  | 'sgdUpdate'
  | 'copy'
  | 'triad'
  | 'countNonFinite';

/** Every export takes numbers (byte offsets, counts, scalars) and returns a number or nothing. */
export type KernelFunction = (...args: number[]) => number;

/** The instance's exports by name: the contract kernels, heapBase, and the model toolkit's nn*. */
export type KernelExports = Readonly<Record<ElementwiseKernel | 'philoxBlocks' | 'heapBase', KernelFunction>> &
  Readonly<Record<string, KernelFunction>>;

const REQUIRED_EXPORTS = [
  'philoxBlocks', 'fillNormal', 'ivonSample', 'ivonSampleGiven', 'ivonAccumulate', 'ivonUpdate', 'ivonUpdateFused',
  'adamwUpdate', 'sgdUpdate', 'copy', 'triad', 'countNonFinite', 'heapBase',
] as const;

export const WASM_PAGE_BYTES = 65536;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The embedded kernel module. The two variants (~26 KB min+gzip each) live in separate generated
 * files loaded on demand, so a bundled page downloads only the one it runs: the shared-memory one
 * for the worker pool, the other on one thread.
 */
async function embeddedModule(shared: boolean): Promise<Uint8Array> {
  if (shared) return decodeBase64((await import('./wasm-module-shared.generated.js')).WASM_SHARED_BASE64);
  return decodeBase64((await import('./wasm-module.generated.js')).WASM_BASE64);
}

async function fetchBytes(location: URL | string): Promise<ArrayBuffer> {
  const url = typeof location === 'string' ? new URL(location, globalThis.location?.href ?? 'file:///') : location;
  if (url.protocol === 'file:') {
    // Node's fetch has no file: support; browsers never reach this with a file: page of their own.
    return readFileUrl(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`wasm backend: fetching the kernel module ${url.href} failed: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/**
 * Compiles the kernel module: the embedded one for `shared` (shared-memory variant) or not, or
 * the given override (a compiled module, its bytes, or a URL to fetch them from).
 */
export async function compileKernelModule(source?: WasmModuleSource, shared = false): Promise<WebAssembly.Module> {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.compile !== 'function') {
    throw new Error('wasm backend: WebAssembly is not available in this environment; use the js backend');
  }
  if (source instanceof WebAssembly.Module) return source;
  let bytes: BufferSource;
  if (source === undefined) bytes = (await embeddedModule(shared)) as Uint8Array<ArrayBuffer>;
  else if (source instanceof ArrayBuffer || source instanceof Uint8Array) bytes = source as BufferSource;
  else if (source instanceof URL || typeof source === 'string') bytes = await fetchBytes(source);
  else throw new TypeError('wasm backend: options.module must be a WebAssembly.Module, an ArrayBuffer, a Uint8Array, a URL or a URL string');
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    throw new Error(
      `wasm backend: the kernel module does not compile here (${String(error)}). It needs WebAssembly SIMD` +
        (shared ? ' and threads' : '') + '; use the js backend on engines without it.',
    );
  }
}

/** Throws unless the module imports exactly env.memory (what scripts/build-wasm.mjs produces). */
export function checkKernelImports(module: WebAssembly.Module): void {
  const imports = WebAssembly.Module.imports(module);
  const memory = imports.find((entry) => entry.kind === 'memory');
  if (!memory || imports.length !== 1 || memory.module !== 'env' || memory.name !== 'memory') {
    const found = imports.map((entry) => `${entry.module}.${entry.name} (${entry.kind})`).join(', ');
    throw new Error(`wasm backend: the kernel module must import only env.memory, it imports: ${found || 'nothing'}. Rebuild it with scripts/build-wasm.mjs`);
  }
}

/** Options of the memory the kernels run on. */
export interface KernelMemoryOptions {
  shared: boolean;
  /** Initial size in bytes (rounded up to 64 KiB pages). Default 16 MiB. */
  initialBytes?: number;
  /** Largest size the heap may grow to. Default 4 GiB (non-shared) / 1 GiB (shared: reserved up front). */
  maximumBytes?: number;
}

/** A WebAssembly.Memory for the kernels; the shared kind needs SharedArrayBuffer (cross-origin isolation in browsers). */
export function createKernelMemory(options: KernelMemoryOptions): WebAssembly.Memory {
  const pages = (bytes: number) => Math.ceil(bytes / WASM_PAGE_BYTES);
  const initial = pages(options.initialBytes ?? 16 * 1024 * 1024);
  const maximum = Math.min(65536, pages(options.maximumBytes ?? (options.shared ? 1024 : 4096) * 1024 * 1024));
  if (!Number.isFinite(initial) || initial < 1 || initial > maximum) {
    throw new RangeError(`wasm backend: initialBytes must be between 1 byte and maximumBytes (${maximum * WASM_PAGE_BYTES}), got ${options.initialBytes}`);
  }
  if (options.shared && typeof SharedArrayBuffer === 'undefined') {
    throw new Error('wasm backend: a shared memory needs SharedArrayBuffer, which this page lacks (serve it with COOP/COEP headers to get crossOriginIsolated); use shared: false');
  }
  return new WebAssembly.Memory(options.shared ? { initial, maximum, shared: true } : { initial, maximum });
}

/** Instantiates the kernels against `memory` and checks every contract export is there. */
export async function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  checkKernelImports(module);
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (error) {
    throw new Error(
      `wasm backend: cannot instantiate the kernels on this memory (${String(error)}). The 'shared' module ` +
        'needs a shared memory and the default one a non-shared memory; pass the matching shared option.',
    );
  }
  const exports = instance.exports as unknown as KernelExports;
  const missing = REQUIRED_EXPORTS.filter((name) => typeof exports[name] !== 'function');
  if (missing.length > 0) throw new Error(`wasm backend: the kernel module lacks ${missing.join(', ')}; rebuild it with scripts/build-wasm.mjs`);
  return exports;
}
