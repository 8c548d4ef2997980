// Optional TensorFlow.js (wasm backend, SIMD) for the side-by-side GEMM and Adam-step rows. It is a dev
// dependency of the bench only and may be absent: then the reason is printed and no tfjs row is
// written. Imported by variable names so TypeScript and bundlers never require it. Where the
// binaries are is the host's business (bench/host-node.ts finds them in node_modules).

const CORE = '@tensorflow/tfjs-core';
const WASM = '@tensorflow/tfjs-backend-wasm';

/** The slice of tfjs-core the bench uses. */
export interface Tf {
  version_core: string;
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA: boolean, transposeB: boolean): TfTensor;
  tensor1d(values: Float32Array): TfTensor;
  variable(initial: TfTensor, trainable: boolean, name: string): TfTensor;
  train: { adam(learningRate: number, beta1: number, beta2: number, epsilon: number): TfOptimizer };
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  ready(): Promise<void>;
}

export interface TfTensor {
  dataSync(): Float32Array;
  dispose(): void;
}

export interface TfOptimizer {
  applyGradients(gradients: Record<string, TfTensor>): void;
  dispose(): void;
}

export interface LoadedTf {
  tf: Tf;
  description: string;
}

interface TfWasm {
  setWasmPaths?(prefix: string): void;
  setThreadsCount?(n: number): void;
  getThreadsCount?(): number;
}

/**
 * tfjs-core on its wasm backend with one thread (like our one-core GEMM), or why not.
 * `wasmDir(packageName)`: where the package's .wasm binaries are, for installs where the backend
 * cannot locate them by itself.
 */
export async function loadTfjsWasm(wasmDir?: (packageName: string) => string): Promise<LoadedTf | string> {
  let tf: Tf;
  let wasm: TfWasm;
  try {
    tf = (await import(/* @vite-ignore */ CORE)) as Tf;
    wasm = (await import(/* @vite-ignore */ WASM)) as TfWasm;
  } catch {
    return `TensorFlow.js is not installed (add devDependencies "${CORE}": "4.22.0" and "${WASM}": "4.22.0" to compare)`;
  }
  try {
    wasm.setThreadsCount?.(1);
    let ok = await tf.setBackend('wasm').catch(() => false);
    if (!ok && wasm.setWasmPaths && wasmDir) {
      // Some installs cannot locate the .wasm binaries by themselves in Node: point at the package's dist/.
      wasm.setWasmPaths(wasmDir(WASM));
      ok = await tf.setBackend('wasm').catch(() => false);
    }
    if (!ok) return 'tf.setBackend("wasm") failed: the tfjs wasm binaries could not be loaded';
    await tf.ready();
    const threads = wasm.getThreadsCount?.() ?? 1;
    return { tf, description: `TensorFlow.js ${tf.version_core} wasm backend, ${threads} thread(s)` };
  } catch (error) {
    return `TensorFlow.js wasm backend failed to start: ${error instanceof Error ? error.message : String(error)}`;
  }
}
