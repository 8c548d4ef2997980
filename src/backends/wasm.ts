// The 'wasm' backend: the AssemblyScript SIMD kernels (assembly/) on a WebAssembly.Memory that JS
// owns. Arenas are blocks of that memory (WasmHeap), so views are zero-copy Float32Arrays and a
// kernel call is just pointers + a count. Each element-wise method builds one KernelCall and hands
// it to a KernelRunner (wasm-calls.ts): in place here, sharded over workers by the pool, which
// reuses everything exported below (module, memory, exports, heap, calls).

import type {
  AdamwUpdateArgs,
  Arena,
  Backend,
  HessApprox,
  IvonUpdateArgs,
  NextNoise,
  Range,
  Role,
  SampleArgs,
  SgdUpdateArgs,
} from '../backend.js';
import { UsageError } from '../errors.js';
import { counterArgs, hasPrior, hessApproxCode, updateScalars } from '../kernels/args.js';
import { InPlaceRunner, roleArg, type KernelArg, type KernelCall, type KernelRunner, type RoleBases } from './wasm-calls.js';
import { roleStride, WasmHeap } from './wasm-heap.js';
import {
  compileKernelModule,
  createKernelMemory,
  instantiateKernels,
  type KernelExports,
  type WasmModuleSource,
} from './wasm-module.js';

export * from './wasm-calls.js';
export * from './wasm-heap.js';
export * from './wasm-module.js';

export interface WasmBackendOptions {
  /** Override the embedded kernels: a compiled module, its bytes, or a URL (CDN, strict CSP). */
  module?: WasmModuleSource;
  /** Run on a shared memory (the threads build); needs SharedArrayBuffer. Default false. */
  shared?: boolean;
  /** Initial memory size in bytes (default 16 MiB); the heap grows as arenas need. */
  initialBytes?: number;
  /** Largest memory size in bytes (default 4 GiB, or 1 GiB shared: reserved up front). */
  maximumBytes?: number;
}

/** A wasm arena: one heap block holding each role's buffer, `stride` bytes apart. */
export interface WasmArena extends Arena {
  readonly bases: RoleBases;
  readonly block: number;
}

/** What nnHost() hands the model toolkit (structurally a WasmNnHost of src/nn/ops-wasm.ts). */
export interface WasmNnHostBlocks {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** A 64-byte aligned block of this heap (byte offset). */
  alloc(bytes: number): number;
  /** Returns a block from alloc(). */
  free(ptr: number): void;
}

const R = roleArg;

/** The prior-capable kernels' prior pointers: the arena's prior buffers, or 0 for the uniform prior. */
function priorArgs(arena: Arena): [priorMean: KernelArg, priorPrecision: KernelArg] {
  return hasPrior(arena) ? [R('priorMean'), R('priorPrecision')] : [0, 0];
}


export class WasmBackend implements Backend {
  readonly kind = 'wasm' as const;
  /** A normal costs ~3.5 ns here, re-reading 4 bytes far less: store the noise. */
  readonly prefersRedraw = false;
  private readonly arenas = new Set<WasmArena>();
  private disposed = false;

  constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly exports: KernelExports,
    readonly heap: WasmHeap,
    readonly runner: KernelRunner,
    readonly description: string,
  ) {}

  createArena(length: number, roles: readonly Role[]): Arena {
    this.checkLive();
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`wasm backend: arena length must be a non-negative integer, got ${length}`);
    if (roles.length === 0 || new Set(roles).size !== roles.length) {
      throw new Error(`wasm backend: an arena needs distinct roles, got [${roles.join(', ')}]`);
    }
    const stride = roleStride(length, roles.length);
    const block = this.heap.alloc(stride * roles.length);
    new Uint8Array(this.memory.buffer, block, stride * roles.length).fill(0);
    const bases: Partial<Record<Role, number>> = {};
    roles.forEach((role, index) => (bases[role] = block + index * stride));
    const arena: WasmArena = { length, roles: [...roles], bases, block };
    this.arenas.add(arena);
    return arena;
  }

  destroyArena(arena: Arena): void {
    const wasmArena = this.own(arena);
    this.arenas.delete(wasmArena);
    this.heap.release(wasmArena.block);
  }

  view(arena: Arena, role: Role, range: Range): Float32Array {
    const base = this.base(arena, role, range);
    return new Float32Array(this.memory.buffer, base + 4 * range.start, range.count);
  }

  write(arena: Arena, role: Role, start: number, data: Float32Array): void {
    this.view(arena, role, { start, count: data.length }).set(data);
  }

  async read(arena: Arena, role: Role, range: Range): Promise<Float32Array> {
    await this.runner.flush();
    return this.view(arena, role, range).slice();
  }

  fill(arena: Arena, role: Role, range: Range, value: number): void {
    this.view(arena, role, range).fill(value);
  }

  copy(arena: Arena, dst: Role, src: Role, range: Range): void {
    this.base(arena, src, range);
    this.run(arena, range, { kernel: 'copy', args: [R(dst), R(src), 'count'] });
  }

  countNonFinite(arena: Arena, role: Role, range: Range): Promise<number> {
    this.base(arena, role, range);
    return this.runner.sum({ kernel: 'countNonFinite', args: [R(role), 'count'] }, this.own(arena).bases, range);
  }

  ivonSample(arena: Arena, range: Range, a: SampleArgs): void {
    this.run(arena, range, {
      kernel: 'ivonSample',
      args: [R('mean'), R('hess'), R('noise'), R('theta'), priorArgs(arena)[1], 'count', 'first', ...counterArgs(a), a.ess, a.weightDecay],
    });
  }

  ivonDraw(arena: Arena, range: Range, a: SampleArgs): void {
    this.run(arena, range, {
      kernel: 'ivonDraw',
      args: [R('mean'), R('hess'), R('theta'), priorArgs(arena)[1], 'count', 'first', ...counterArgs(a), a.ess, a.weightDecay],
    });
  }

  ivonUpdateRedraw(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs): void {
    this.run(arena, range, {
      kernel: 'ivonUpdateRedraw',
      args: [R('mean'), R('hess'), R('momentum'), R('grad'), ...priorArgs(arena), 'count', 'first', ...counterArgs(s), ...updateScalars(a)],
    });
  }

  ivonUpdateAndDraw(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs): void {
    this.run(arena, range, {
      kernel: 'ivonUpdateAndDraw',
      args: [R('mean'), R('hess'), R('momentum'), R('grad'), R('theta'), ...priorArgs(arena), 'count', 'first', ...counterArgs(s), ...updateScalars(a)],
    });
  }

  ivonUpdateFusedAndSample(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs, next: NextNoise = 'draw'): void {
    this.run(arena, range, {
      kernel: 'ivonUpdateFusedAndSample',
      args: [R('mean'), R('hess'), R('momentum'), R('grad'), R('noise'), R('theta'), next === 'epsilon' ? R('epsilon') : 0, ...priorArgs(arena), 'count', 'first', ...counterArgs(s), ...updateScalars(a)],
    });
  }

  drawEpsilon(arena: Arena, range: Range, s: SampleArgs): void {
    this.run(arena, range, { kernel: 'fillNormal', args: [R('epsilon'), 'count', 'first', ...counterArgs(s)] });
  }

  ivonSampleGiven(arena: Arena, range: Range, ess: number, weightDecay: number): void {
    this.run(arena, range, { kernel: 'ivonSampleGiven', args: [R('mean'), R('hess'), R('noise'), R('theta'), priorArgs(arena)[1], 'count', ess, weightDecay] });
  }

  ivonAccumulate(arena: Arena, range: Range, sampleCount: number, hessApprox: HessApprox): void {
    this.run(arena, range, {
      kernel: 'ivonAccumulate',
      args: [R('grad'), R('noise'), R('gradMean'), R('curvMean'), 'count', sampleCount, hessApproxCode(hessApprox)],
    });
  }

  ivonUpdate(arena: Arena, range: Range, a: IvonUpdateArgs): void {
    this.run(arena, range, {
      kernel: 'ivonUpdate',
      args: [R('mean'), R('hess'), R('momentum'), R('gradMean'), R('curvMean'), ...priorArgs(arena), 'count', ...updateScalars(a)],
    });
  }

  ivonUpdateFused(arena: Arena, range: Range, a: IvonUpdateArgs): void {
    this.run(arena, range, {
      kernel: 'ivonUpdateFused',
      args: [R('mean'), R('hess'), R('momentum'), R('grad'), R('noise'), ...priorArgs(arena), 'count', ...updateScalars(a)],
    });
  }

  adamwUpdate(arena: Arena, range: Range, a: AdamwUpdateArgs): void {
    this.run(arena, range, {
      kernel: 'adamwUpdate',
      args: [R('mean'), R('grad'), R('momentum'), R('expAvgSq'), 'count',
        a.stepSize, a.decayFactor, a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.eps, a.invBiasCorrection2Sqrt],
    });
  }

  sgdUpdate(arena: Arena, range: Range, a: SgdUpdateArgs): void {
    this.run(arena, range, { kernel: 'sgdUpdate', args: [R('mean'), R('grad'), R('momentum'), 'count', a.lr, a.momentum, a.weightDecay] });
  }

  async randomBits(firstBlock: number, blocks: number, c1: number, c2: number, c3: number, k0: number, k1: number): Promise<Uint32Array> {
    checkCount('randomBits: blocks', blocks);
    return this.withScratch(16 * blocks, (ptr) => {
      this.exports.philoxBlocks(ptr, blocks, firstBlock, c1, c2, c3, k0, k1);
      return new Uint32Array(this.memory.buffer, ptr, 4 * blocks).slice();
    });
  }

  async randomNormals(first: number, count: number, sample: number, step: number, stream: number, seedLo: number, seedHi: number): Promise<Float32Array> {
    checkCount('randomNormals: count', count);
    checkCount('randomNormals: first', first);
    return this.withScratch(4 * count, (ptr) => {
      this.exports.fillNormal(ptr, count, first, sample, step, stream, seedLo, seedHi);
      return new Float32Array(this.memory.buffer, ptr, count).slice();
    });
  }

  flush(): Promise<void> {
    return this.runner.flush();
  }

  /**
   * The model toolkit's access (src/nn/runtime-ops.ts): this memory, this instance's exports (the
   * nn* GEMM and activation kernels) and blocks of this heap, so activations live beside the
   * optimizer's arenas and the kernels read ctx.theta / write ctx.grad in place. Growing the heap
   * detaches old views of a non-shared memory: users re-derive views from `memory.buffer`. With
   * the worker pool these kernels run on the calling thread's instance.
   */
  nnHost(): WasmNnHostBlocks {
    this.checkLive();
    return {
      memory: this.memory,
      exports: this.exports,
      alloc: (bytes: number) => {
        this.checkLive();
        return this.heap.alloc(bytes);
      },
      free: (ptr: number) => this.heap.release(ptr),
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.runner.flush();
    for (const arena of this.arenas) this.heap.release(arena.block);
    this.arenas.clear();
    this.disposed = true;
  }

  /** Validates and runs one element-wise kernel over `range` of `arena`. */
  private run(arena: Arena, range: Range, call: KernelCall): void {
    const wasmArena = this.own(arena);
    checkRange(wasmArena, range);
    this.runner.run(call, wasmArena.bases, range);
  }

  private withScratch<T>(bytes: number, use: (ptr: number) => T): T {
    this.checkLive();
    const ptr = this.heap.alloc(bytes);
    try {
      return use(ptr);
    } finally {
      this.heap.release(ptr);
    }
  }

  private base(arena: Arena, role: Role, range: Range): number {
    const wasmArena = this.own(arena);
    checkRange(wasmArena, range);
    const base = wasmArena.bases[role];
    if (base === undefined) throw new Error(`wasm backend: the arena has no '${role}' buffer (roles: ${arena.roles.join(', ')})`);
    return base;
  }

  protected own(arena: Arena): WasmArena {
    this.checkLive();
    if (!this.arenas.has(arena as WasmArena)) throw new UsageError('wasm backend: unknown or destroyed arena (create it with this backend\'s createArena)');
    return arena as WasmArena;
  }

  private checkLive(): void {
    if (this.disposed) throw new UsageError('wasm backend: used after dispose(); create a new runtime');
  }
}

function checkCount(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`wasm backend: ${what} must be an integer in [0, 2^32), got ${value}`);
}

function checkRange(arena: Arena, range: Range): void {
  const { start, count } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > arena.length) {
    throw new RangeError(`wasm backend: range [${start}, ${start}+${count}) is outside the arena [0, ${arena.length})`);
  }
}

/** Builds the wasm backend: compiles (or takes) the kernel module, makes its memory, instantiates. */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const shared = options.shared ?? false;
  if (typeof shared !== 'boolean') throw new TypeError(`createWasmBackend: shared must be a boolean, got ${String(shared)}`);
  const module = await compileKernelModule(options.module, shared);
  const memory = createKernelMemory({ shared, initialBytes: options.initialBytes, maximumBytes: options.maximumBytes });
  const exports = await instantiateKernels(module, memory);
  const heap = new WasmHeap(memory, exports.heapBase());
  const description = `WebAssembly SIMD (AssemblyScript kernels), ${shared ? 'shared' : 'non-shared'} memory, main thread`;
  return new WasmBackend(module, memory, exports, heap, new InPlaceRunner(exports), description);
}
