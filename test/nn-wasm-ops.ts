// The model toolkit's WASM ops exactly as the library builds them: on the wasm backend's own module
// and memory (nnHost), so tests exercise the production path.
import { createNnOps, createRuntime, type NnOps } from '../src/index.js';

export async function wasmOps(): Promise<NnOps> {
  const rt = await createRuntime({ backend: 'wasm', workers: 0 });
  const ops = createNnOps(rt);
  if (ops.kind !== 'wasm') throw new Error(`expected the WASM model ops, got ${ops.kind}`);
  return ops;
}
