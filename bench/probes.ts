// Memory-bandwidth probes (copy dst = src, triad z = a·x + y) on each CPU backend's own terms:
// on 'wasm' the `copy` / `triad` kernels exported by the very module instance that runs the
// optimizer kernels, on the memory its arenas live in; on 'js' plain Float32Array loops (the
// ceiling a JS kernel can reach). A kernel's GB/s divided by its backend's probe says how close
// it runs to what the machine gives that backend.

import type { Arena, Backend, Range, Role } from '../src/backend.js';

/** The low-level surface of src/backends/wasm.ts's WasmBackend that the probes need. */
export interface WasmLowLevel {
  readonly memory: WebAssembly.Memory;
  readonly exports: {
    copy(dst: number, src: number, count: number): void;
    triad(z: number, x: number, y: number, count: number, a: number): void;
    fillNormal(out: number, count: number, first: number, sample: number, step: number, stream: number, seedLo: number, seedHi: number): void;
    philoxBlocks(out: number, blocks: number, firstBlock: number, c1: number, c2: number, c3: number, k0: number, k1: number): void;
  };
}

/** The WASM backend's exports and memory, or a reason they are not reachable. */
export function wasmLowLevel(backend: Backend): WasmLowLevel | string {
  const b = backend as unknown as Partial<WasmLowLevel>;
  if (!(b.memory instanceof WebAssembly.Memory) || !b.exports) return 'the wasm backend exposes no memory/exports (expected WasmBackend.memory and .exports)';
  for (const name of ['copy', 'triad', 'fillNormal', 'philoxBlocks'] as const) {
    if (typeof b.exports[name] !== 'function') return `the wasm module does not export '${name}'`;
  }
  return b as WasmLowLevel;
}

/** Byte offset of a role's range in the WASM memory (views are zero-copy on the wasm backend). */
export function pointer(backend: Backend, arena: Arena, role: Role, range: Range): number {
  const view = backend.view(arena, role, range);
  if (!view) throw new Error(`no CPU view of '${role}' on the ${backend.kind} backend`);
  return view.byteOffset;
}

export interface ProbeSet {
  copy: () => void;
  triad: () => void;
  source: string;
}

export function cpuProbes(backend: Backend, arena: Arena, range: Range): ProbeSet | string {
  if (backend.kind === 'wasm') {
    const low = wasmLowLevel(backend);
    if (typeof low === 'string') return low;
    const p = (role: Role) => pointer(backend, arena, role, range);
    const [mean, hess, theta, noise] = [p('mean'), p('hess'), p('theta'), p('noise')];
    return {
      copy: () => low.exports.copy(theta, mean, range.count),
      triad: () => low.exports.triad(noise, mean, hess, range.count, 1.0001),
      source: 'copy/triad exports of the wasm backend module, same memory',
    };
  }
  if (backend.kind === 'js') {
    const v = (role: Role) => backend.view(arena, role, range)!;
    return {
      copy: () => v('theta').set(v('mean')),
      triad: () => {
        const z = v('noise');
        const x = v('mean');
        const y = v('hess');
        const a = 1.0001;
        for (let i = 0; i < z.length; i++) z[i] = a * x[i] + y[i];
      },
      source: 'plain Float32Array loops (TypedArray.set for copy)',
    };
  }
  return `no CPU probes for the ${backend.kind} backend`;
}
