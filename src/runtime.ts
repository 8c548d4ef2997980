// createRuntime(): the entry point that owns a compute backend. Optimizers and models are built
// on a runtime; the runtime says which backend it chose and why.

import type { Backend, BackendKind } from './backend.js';
import { JsBackend } from './backends/js.js';
import { ConfigError } from './errors.js';

export type BackendChoice = BackendKind | 'auto';

export interface RuntimeOptions {
  backend?: BackendChoice;
}

export interface Runtime {
  /** The backend in use. */
  readonly backend: BackendKind;
  /** The compute backend object (src/backend.ts), for the model toolkit and advanced users. */
  readonly compute: Backend;
  /** Why this backend was chosen (probes and reasons). */
  explain(): RuntimeExplanation;
  dispose(): Promise<void>;
}

export interface RuntimeExplanation {
  chosen: BackendKind;
  reason: string;
  probes: Record<string, unknown>;
}

class SimpleRuntime implements Runtime {
  constructor(
    readonly compute: Backend,
    private readonly explanation: RuntimeExplanation,
  ) {}

  get backend(): BackendKind {
    return this.compute.kind;
  }

  explain(): RuntimeExplanation {
    return structuredClone(this.explanation);
  }

  async dispose(): Promise<void> {
    await this.compute.dispose();
  }
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const backend = options.backend ?? 'auto';
  switch (backend) {
    case 'js':
      return new SimpleRuntime(new JsBackend(), { chosen: 'js', reason: 'requested', probes: {} });
    case 'wasm': {
      const { createWasmBackend } = await import('./backends/wasm.js');
      return new SimpleRuntime(await createWasmBackend(), { chosen: 'wasm', reason: 'requested', probes: {} });
    }
    case 'webgpu': {
      const { createWebGpuBackend } = await import('../gpu/webgpu-backend.js');
      return new SimpleRuntime(await createWebGpuBackend(), { chosen: 'webgpu', reason: 'requested', probes: {} });
    }
    case 'auto': {
      try {
        const { createWasmBackend } = await import('./backends/wasm.js');
        return new SimpleRuntime(await createWasmBackend(), { chosen: 'wasm', reason: 'WebAssembly available', probes: {} });
      } catch (error) {
        return new SimpleRuntime(new JsBackend(), { chosen: 'js', reason: `wasm unavailable: ${String(error)}`, probes: {} });
      }
    }
    default:
      throw new ConfigError(`createRuntime: backend must be 'auto', 'js', 'wasm' or 'webgpu', got ${JSON.stringify(backend)}`);
  }
}
