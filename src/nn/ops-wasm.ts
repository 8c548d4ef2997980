// NnOps on the WASM SIMD kernels of assembly/nn.ts. The kernels take byte offsets into one
// WebAssembly.Memory — the same memory the WASM backend keeps the optimizer's arena in — so the
// model reads ctx.theta(name) and writes ctx.grad(name) in place; only activations need workspace,
// allocated through the host's allocator. Views are re-derived per call because a growing memory
// detaches old ones (PLATFORM.md).
import type { ActivationKind, Buf, GemmSpec, NnOps } from './ops.js';
import { resolveGemm } from './ops.js';

/** The kernels assembly/nn.ts exports (the WASM backend's module re-exports them). */
export interface NnKernelExports {
  nnGemmPackFloats(): number;
  nnGemm(
    transA: number, transB: number, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, pack: number,
  ): void;
  nnBiasAdd(y: number, bias: number, rows: number, cols: number): void;
  nnBiasGrad(dy: number, db: number, rows: number, cols: number): void;
  nnRelu(x: number, y: number, count: number): void;
  nnReluBackward(y: number, dy: number, dx: number, count: number): void;
  nnTanh(x: number, y: number, count: number): void;
  nnTanhBackward(y: number, dy: number, dx: number, count: number): void;
  nnGelu(x: number, y: number, count: number): void;
  nnGeluBackward(x: number, dy: number, dx: number, count: number): void;
}

/** What the ops need from whoever owns the module instance. */
export interface WasmNnHost {
  readonly memory: WebAssembly.Memory;
  readonly exports: NnKernelExports;
  /** Reserve `bytes` (16-byte aligned) in memory; returns the byte offset. */
  alloc(bytes: number): number;
}

export class WasmOps implements NnOps {
  readonly kind = 'wasm' as const;
  private readonly k: NnKernelExports;
  private readonly pack: number;

  constructor(private readonly host: WasmNnHost) {
    this.k = host.exports;
    for (const name of ['nnGemm', 'nnGemmPackFloats', 'nnBiasAdd', 'nnRelu'] as const) {
      if (typeof this.k[name] !== 'function') {
        throw new Error(`WasmOps: the module does not export ${name}; build it from assembly/index.ts (npm run build:wasm), which re-exports assembly/nn.ts`);
      }
    }
    this.pack = host.alloc(this.k.nnGemmPackFloats() * 4);
  }

  alloc(count: number): Buf {
    const ptr = this.host.alloc(Math.max(count, 4) * 4);
    const memory = this.host.memory;
    let cached: Float32Array | undefined;
    return {
      count,
      view: () => {
        if (!cached || cached.buffer !== memory.buffer) cached = new Float32Array(memory.buffer, ptr, count);
        return cached;
      },
    };
  }

  accepts(x: Float32Array): boolean {
    return x.buffer === this.host.memory.buffer;
  }

  private ptr(x: Float32Array, label: string): number {
    if (x.buffer !== this.host.memory.buffer) {
      throw new Error(`WasmOps: ${label} is not a view of the WASM memory; allocate it with ops.alloc() or take it from the WASM backend (a detached or foreign array cannot be read by the kernels)`);
    }
    return x.byteOffset;
  }

  /**
   * One nnGemm call. On the worker pool, nnHost()'s nnGemm is the pool's: split by output rows
   * over the threads when large enough (same bits), synchronous like the export.
   */
  gemm(spec: GemmSpec): void {
    const g = resolveGemm(spec);
    this.k.nnGemm(
      g.transA ? 1 : 0, g.transB ? 1 : 0, g.m, g.n, g.k,
      this.ptr(g.a, 'A'), g.lda, this.ptr(g.b, 'B'), g.ldb, this.ptr(g.c, 'C'), g.ldc,
      g.accumulate ? 1 : 0, this.pack,
    );
  }

  biasAdd(y: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    this.k.nnBiasAdd(this.ptr(y, 'y'), this.ptr(bias, 'bias'), rows, cols);
  }

  biasGrad(dy: Float32Array, db: Float32Array, rows: number, cols: number): void {
    this.k.nnBiasGrad(this.ptr(dy, 'dy'), this.ptr(db, 'db'), rows, cols);
  }

  activation(kind: ActivationKind, x: Float32Array, y: Float32Array, count: number): void {
    const px = this.ptr(x, 'x');
    const py = this.ptr(y, 'y');
    if (kind === 'relu') this.k.nnRelu(px, py, count);
    else if (kind === 'tanh') this.k.nnTanh(px, py, count);
    else this.k.nnGelu(px, py, count);
  }

  activationBackward(kind: ActivationKind, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, count: number): void {
    const pdy = this.ptr(dy, 'dy');
    const pdx = this.ptr(dx, 'dx');
    if (kind === 'relu') this.k.nnReluBackward(this.ptr(y, 'y'), pdy, pdx, count);
    else if (kind === 'tanh') this.k.nnTanhBackward(this.ptr(y, 'y'), pdy, pdx, count);
    else this.k.nnGeluBackward(this.ptr(x, 'x'), pdy, pdx, count);
  }
}
