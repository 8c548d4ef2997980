// The 'webgpu' backend: the Backend interface (src/backend.ts) over GPUBuffers. An arena is one
// GPUBuffer per role; kernels are enqueued and submitted without readback; read()/flush() are the
// only waits. GPU-resident models get the device and { buffer, offset, size } bindings of any
// role so θ and gradients never cross to the CPU. After device loss every method throws
// DeviceLostError and pending waits reject instead of hanging.

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
} from '../src/backend.js';
import { UsageError } from '../src/errors.js';
import { hasPrior, hessApproxCode } from '../src/kernels/args.js';
import { acquireDevice, type DeviceOptions } from './device.js';
import { planChunks, type DispatchLimits } from './dispatch-plan.js';
import { DeviceLostError, WebGpuLimitError } from './errors.js';
import { KERNELS, type KernelName, type KernelSpec } from './kernels.js';
import { KernelRunner, type Dispatch } from './kernel-runner.js';
import { BufferUsage, MapMode } from './usage.js';

export interface WebGpuBackendOptions extends DeviceOptions {
  /**
   * Use smaller limits than the device offers (tests: forces the chunked dispatch paths at small
   * sizes). maxBindingBytes is rounded down to a multiple of 16; offsetAlignment must be a
   * multiple of the device's minStorageBufferOffsetAlignment.
   */
  limits?: Partial<DispatchLimits>;
}

/** Where a role's elements live on the GPU, in bytes (for a model's own bind groups). */
export interface GpuBinding {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

interface GpuArena extends Arena {
  readonly buffers: Map<Role, GPUBuffer>;
  /** Bytes of each role buffer (length padded to a multiple of 16 elements). */
  readonly bytes: number;
}

const FLOAT32_MAX = 3.4028234663852886e38;

export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const acquired = await acquireDevice(options);
  const limits = dispatchLimits(acquired.device, options.limits);
  const runner = await KernelRunner.create(acquired.device, limits);
  return new WebGpuBackend(acquired.device, acquired.adapter, acquired.ownsDevice, acquired.adapterDescription, acquired.isSoftware, limits, runner);
}

function dispatchLimits(device: GPUDevice, override: Partial<DispatchLimits> = {}): DispatchLimits {
  const own: DispatchLimits = {
    maxBindingBytes: Math.floor(device.limits.maxStorageBufferBindingSize / 16) * 16,
    offsetAlignment: device.limits.minStorageBufferOffsetAlignment,
    maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
  };
  const merged: DispatchLimits = {
    maxBindingBytes: Math.floor((override.maxBindingBytes ?? own.maxBindingBytes) / 16) * 16,
    offsetAlignment: override.offsetAlignment ?? own.offsetAlignment,
    maxWorkgroupsPerDimension: override.maxWorkgroupsPerDimension ?? own.maxWorkgroupsPerDimension,
  };
  const ok =
    merged.maxBindingBytes <= own.maxBindingBytes &&
    merged.maxBindingBytes >= 2 * merged.offsetAlignment &&
    merged.offsetAlignment % own.offsetAlignment === 0 &&
    Number.isInteger(merged.maxWorkgroupsPerDimension) &&
    merged.maxWorkgroupsPerDimension >= 1 &&
    merged.maxWorkgroupsPerDimension <= own.maxWorkgroupsPerDimension;
  if (!ok) {
    throw new WebGpuLimitError(
      `limits override ${JSON.stringify(override)} is not within the device's ${JSON.stringify(own)}: ` +
        'maxBindingBytes must be at least twice offsetAlignment and at most the device limit, offsetAlignment a multiple of the device one.',
    );
  }
  return merged;
}

export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu' as const;
  /** Compute is free next to memory traffic here: regenerate the noise instead of storing it. */
  readonly prefersRedraw = true;
  readonly description: string;
  /** Resolves when the device is lost (also after dispose() destroys a device it owns). */
  readonly lost: Promise<GPUDeviceLostInfo>;
  private lostInfo: GPUDeviceLostInfo | undefined;
  private disposed = false;
  private readonly lostRejection: Promise<never>;
  private readonly arenas = new Set<GpuArena>();

  constructor(
    readonly device: GPUDevice,
    readonly adapter: GPUAdapter | undefined,
    private readonly ownsDevice: boolean,
    readonly adapterDescription: string,
    /** Software rasteriser (SwiftShader, lavapipe): results are right, timings meaningless. */
    readonly isSoftwareAdapter: boolean,
    /** The limits the dispatch planner uses (the device's, or a smaller test override). */
    readonly limits: DispatchLimits,
    private readonly runner: KernelRunner,
  ) {
    this.description = `WebGPU on ${adapterDescription}${isSoftwareAdapter ? ' (software adapter: timings are not GPU performance)' : ''}`;
    this.lost = device.lost.then((info) => {
      this.lostInfo = info;
      return info;
    });
    this.lostRejection = this.lost.then((info) => {
      throw new DeviceLostError(info.reason, info.message);
    });
    this.lostRejection.catch(() => {}); // observed through race(); never an unhandled rejection
  }

  /** True once the device is lost; every method then throws DeviceLostError. */
  get isLost(): boolean {
    return this.lostInfo !== undefined;
  }

  createArena(length: number, roles: readonly Role[]): Arena {
    this.ensureUsable();
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`createArena: length must be a non-negative integer, got ${length}`);
    const bytes = Math.max(16, Math.ceil(length / 16) * 16) * 4;
    if (bytes > this.device.limits.maxBufferSize) {
      throw new WebGpuLimitError(
        `createArena: ${length} float32 elements need ${bytes} bytes per buffer, above this device's maxBufferSize ` +
          `${this.device.limits.maxBufferSize}. Split the model over several optimizers or use backend 'wasm'.`,
      );
    }
    const buffers = new Map<Role, GPUBuffer>();
    for (const role of new Set(roles)) {
      buffers.set(role, this.device.createBuffer({
        label: `ivon-edge ${role}`,
        size: bytes,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      }));
    }
    const arena: GpuArena = { length, roles: [...buffers.keys()], buffers, bytes };
    this.arenas.add(arena);
    return arena;
  }

  destroyArena(arena: Arena): void {
    const a = arena as GpuArena;
    this.runner.forget(a.buffers.values());
    for (const buffer of a.buffers.values()) buffer.destroy();
    a.buffers.clear();
    this.arenas.delete(a);
  }

  view(): undefined {
    return undefined;
  }

  /** The whole GPUBuffer of a role (STORAGE | COPY_SRC | COPY_DST, padded to 16 elements). */
  buffer(arena: Arena, role: Role): GPUBuffer {
    this.ensureUsable();
    return this.roleBuffer(arena, role);
  }

  /** { buffer, offset, size } in bytes of a role's range, for a model's own bind groups or copies. */
  binding(arena: Arena, role: Role, range: Range): GpuBinding {
    this.ensureUsable();
    this.checkRange(arena, range, 1, 'binding');
    return { buffer: this.roleBuffer(arena, role), offset: range.start * 4, size: range.count * 4 };
  }

  write(arena: Arena, role: Role, start: number, data: Float32Array): void {
    this.ensureUsable();
    this.checkRange(arena, { start, count: data.length }, 1, 'write');
    if (data.length === 0) return;
    this.device.queue.writeBuffer(this.roleBuffer(arena, role), start * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(arena: Arena, role: Role, range: Range): Promise<Float32Array> {
    this.ensureUsable();
    this.checkRange(arena, range, 1, 'read');
    if (range.count === 0) return new Float32Array(0);
    const source = this.roleBuffer(arena, role);
    const bytes = range.count * 4;
    const readback = this.device.createBuffer({ label: 'ivon-edge readback', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.runner.encodeAndSubmit((encoder) => encoder.copyBufferToBuffer(source, range.start * 4, readback, 0, bytes));
    return new Float32Array(await this.mapAndCopy(readback));
  }

  fill(arena: Arena, role: Role, range: Range, value: number): void {
    this.ensureUsable();
    this.checkRange(arena, range, 1, 'fill');
    if (range.count === 0) return;
    const buffer = this.roleBuffer(arena, role);
    if (value === 0 && !Object.is(value, -0)) {
      this.runner.encodeAndSubmit((encoder) => encoder.clearBuffer(buffer, range.start * 4, range.count * 4));
      return;
    }
    this.elementwise('fill', arena, [role], range, { floats: [value] });
  }

  copy(arena: Arena, dst: Role, src: Role, range: Range): void {
    this.ensureUsable();
    this.checkRange(arena, range, 1, 'copy');
    const to = this.roleBuffer(arena, dst);
    const from = this.roleBuffer(arena, src);
    if (range.count === 0 || to === from) return;
    this.runner.encodeAndSubmit((encoder) => encoder.copyBufferToBuffer(from, range.start * 4, to, range.start * 4, range.count * 4));
  }

  async countNonFinite(arena: Arena, role: Role, range: Range): Promise<number> {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'countNonFinite');
    if (range.count === 0) return 0;
    const result = this.device.createBuffer({ label: 'ivon-edge nonfinite', size: 16, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
    const readback = this.device.createBuffer({ label: 'ivon-edge nonfinite readback', size: 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.elementwise('countNonFinite', arena, [role], range, {}, {
      extra: [{ buffer: result, offset: 0, size: 16 }],
      after: (encoder) => encoder.copyBufferToBuffer(result, 0, readback, 0, 4),
    });
    result.destroy(); // destruction waits for the submitted work that uses it
    return new Uint32Array(await this.mapAndCopy(readback))[0];
  }

  ivonSample(arena: Arena, range: Range, a: SampleArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 16, 'ivonSample');
    const ints = u32s('ivonSample', { sample: a.sample, step: a.step, stream: a.stream, seedLo: a.seedLo, seedHi: a.seedHi });
    this.elementwise('ivonSample', arena, ['mean', 'hess', 'noise', 'theta'], range, { ints, floats: [a.ess, a.weightDecay] });
  }

  ivonDraw(arena: Arena, range: Range, a: SampleArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 16, 'ivonDraw');
    const ints = u32s('ivonDraw', { sample: a.sample, step: a.step, stream: a.stream, seedLo: a.seedLo, seedHi: a.seedHi });
    this.elementwise('ivonDraw', arena, ['mean', 'hess', 'theta'], range, { ints, floats: [a.ess, a.weightDecay] });
  }

  ivonUpdateRedraw(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 16, 'ivonUpdateRedraw');
    this.elementwise('ivonUpdateRedraw', arena, ['mean', 'hess', 'momentum', 'grad'], range, redrawScalars('ivonUpdateRedraw', s, a));
  }

  ivonUpdateAndDraw(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 16, 'ivonUpdateAndDraw');
    this.elementwise('ivonUpdateAndDraw', arena, ['mean', 'hess', 'momentum', 'grad', 'theta'], range, redrawScalars('ivonUpdateAndDraw', s, a));
  }

  /** epsilon = z(range.start + i) under the sample's counter: fillNormal into the 'epsilon' role. */
  drawEpsilon(arena: Arena, range: Range, s: SampleArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 16, 'drawEpsilon');
    this.roleBuffer(arena, 'epsilon');
    const ints = u32s('drawEpsilon', { sample: s.sample, step: s.step, stream: s.stream, seedLo: s.seedLo, seedHi: s.seedHi });
    this.elementwise('fillNormal', arena, ['epsilon'], range, { ints });
  }

  /**
   * next 'epsilon': the kernel's epsilon variant reads the next sample's z from the 'epsilon' role
   * (drawEpsilon's values, the bits the counter would give). With a per-element prior that variant
   * binds 9 storage buffers; on a device that allows only the default 8 the same arithmetic runs
   * in three passes instead — ivonUpdateFused, ε copied into noise, ivonSampleGiven — the JS
   * reference's order (tested for the same bits).
   */
  ivonUpdateFusedAndSample(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs, next: NextNoise = 'draw'): void {
    this.ensureUsable();
    if (next !== 'draw' && next !== 'epsilon') throw new RangeError(`ivonUpdateFusedAndSample: next must be 'draw' or 'epsilon', got ${String(next)}`);
    this.checkRange(arena, range, 16, 'ivonUpdateFusedAndSample');
    const scalars = redrawScalars('ivonUpdateFusedAndSample', s, a);
    const roles: Role[] = ['mean', 'hess', 'momentum', 'grad', 'noise', 'theta'];
    if (next === 'draw') {
      this.elementwise('ivonUpdateFusedAndSample', arena, roles, range, scalars);
      return;
    }
    this.roleBuffer(arena, 'epsilon');
    if (this.runner.has('ivonUpdateFusedAndSample', { prior: hasPrior(arena), epsilon: true })) {
      this.elementwise('ivonUpdateFusedAndSample', arena, [...roles, 'epsilon'], range, scalars, { epsilon: true });
      return;
    }
    this.elementwise('ivonUpdateFused', arena, ['mean', 'hess', 'momentum', 'grad', 'noise'], range, ivonScalars(a));
    this.copy(arena, 'noise', 'epsilon', range);
    this.elementwise('ivonSampleGiven', arena, ['mean', 'hess', 'noise', 'theta'], range, { floats: [a.ess, a.weightDecay] });
  }

  ivonSampleGiven(arena: Arena, range: Range, ess: number, weightDecay: number): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'ivonSampleGiven');
    this.elementwise('ivonSampleGiven', arena, ['mean', 'hess', 'noise', 'theta'], range, { floats: [ess, weightDecay] });
  }

  ivonAccumulate(arena: Arena, range: Range, sampleCount: number, hessApprox: HessApprox): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'ivonAccumulate');
    if (!(sampleCount >= 1)) throw new RangeError(`ivonAccumulate: sampleCount must be >= 1, got ${sampleCount}`);
    this.elementwise('ivonAccumulate', arena, ['grad', 'noise', 'gradMean', 'curvMean'], range, {
      ints: [hessApproxCode(hessApprox)],
      floats: [sampleCount],
    });
  }

  ivonUpdate(arena: Arena, range: Range, a: IvonUpdateArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'ivonUpdate');
    this.elementwise('ivonUpdate', arena, ['mean', 'hess', 'momentum', 'gradMean', 'curvMean'], range, ivonScalars(a));
  }

  ivonUpdateFused(arena: Arena, range: Range, a: IvonUpdateArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'ivonUpdateFused');
    this.elementwise('ivonUpdateFused', arena, ['mean', 'hess', 'momentum', 'grad', 'noise'], range, ivonScalars(a));
  }

  adamwUpdate(arena: Arena, range: Range, a: AdamwUpdateArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'adamwUpdate');
    this.elementwise('adamwUpdate', arena, ['mean', 'grad', 'momentum', 'expAvgSq'], range, {
      floats: [a.stepSize, a.decayFactor, a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.eps, a.invBiasCorrection2Sqrt],
    });
  }

  sgdUpdate(arena: Arena, range: Range, a: SgdUpdateArgs): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'sgdUpdate');
    this.elementwise('sgdUpdate', arena, ['mean', 'grad', 'momentum'], range, { floats: [a.lr, a.momentum, a.weightDecay] });
  }

  /** The bandwidth probes: dst = src and z = a·x + y over a range (benchmarks, gpu/timing.ts). */
  copyKernel(arena: Arena, dst: Role, src: Role, range: Range): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'copyKernel');
    this.elementwise('copy', arena, [dst, src], range, {});
  }

  triad(arena: Arena, z: Role, x: Role, y: Role, range: Range, a: number): void {
    this.ensureUsable();
    this.checkRange(arena, range, 4, 'triad');
    this.elementwise('triad', arena, [z, x, y], range, { floats: [a] });
  }

  /** For gpu/timing.ts: time every compute pass into this query set (undefined stops). */
  recordTimestamps(querySet: GPUQuerySet | undefined, capacity = 0): number {
    this.ensureUsable();
    const used = this.runner.timestampsUsed;
    this.runner.recordTimestamps(querySet, capacity);
    return used;
  }

  async randomBits(firstBlock: number, blocks: number, c1: number, c2: number, c3: number, k0: number, k1: number): Promise<Uint32Array> {
    this.ensureUsable();
    const ints = u32s('randomBits', { firstBlock, c1, c2, c3, k0, k1 });
    if (!Number.isInteger(blocks) || blocks < 0) throw new RangeError(`randomBits: blocks must be a non-negative integer, got ${blocks}`);
    if (blocks === 0) return new Uint32Array(0);
    const bytes = blocks * 16;
    const out = this.scratch(bytes);
    const chunks = planChunks(0, blocks, bytes, 16, KERNELS.philoxBlocks.elementsPerInvocation, this.limits);
    const dispatches: Dispatch[] = chunks.map((c) => ({
      bindings: [{ buffer: out, offset: c.windowOffset, size: c.windowSize }],
      invocations: c.count,
      uniforms: { base: c.base, count: c.count, first: 0, ints: [(ints[0] + c.start) >>> 0, ints[1], ints[2], ints[3], ints[4], ints[5]] },
      cacheBindGroup: false,
    }));
    return new Uint32Array(await this.runAndRead('philoxBlocks', dispatches, out, bytes));
  }

  async randomNormals(first: number, count: number, sample: number, step: number, stream: number, seedLo: number, seedHi: number): Promise<Float32Array> {
    this.ensureUsable();
    const ints = u32s('randomNormals', { first, sample, step, stream, seedLo, seedHi });
    if (!Number.isInteger(count) || count < 0 || first + count > 2 ** 32) {
      throw new RangeError(`randomNormals: count must be a non-negative integer with first + count <= 2^32, got first ${first}, count ${count}`);
    }
    if (count === 0) return new Float32Array(0);
    const bytes = Math.ceil(count / 4) * 16;
    const out = this.scratch(bytes);
    const chunks = planChunks(0, count, bytes, 4, KERNELS.fillNormal.elementsPerInvocation, this.limits);
    const dispatches: Dispatch[] = chunks.map((c) => {
      const chunkFirst = first + c.start;
      return {
        bindings: [{ buffer: out, offset: c.windowOffset, size: c.windowSize }],
        invocations: Math.ceil(((chunkFirst & 15) + c.count) / 16),
        uniforms: { base: c.base, count: c.count, first: chunkFirst, ints: [ints[1], ints[2], ints[3], ints[4], ints[5]] },
        cacheBindGroup: false,
      };
    });
    return new Float32Array(await this.runAndRead('fillNormal', dispatches, out, count * 4));
  }

  /** Resolves once everything submitted so far has finished; rejects with DeviceLostError on loss. */
  async flush(): Promise<void> {
    this.ensureUsable();
    await this.unlessLost(this.device.queue.onSubmittedWorkDone());
  }

  /** Frees every arena and internal buffer; destroys the device if this backend created it. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    if (!this.isLost) await this.unlessLost(this.device.queue.onSubmittedWorkDone()).catch(() => {});
    this.disposed = true;
    for (const arena of [...this.arenas]) this.destroyArena(arena);
    this.runner.destroy();
    if (this.ownsDevice) this.device.destroy();
  }

  private ensureUsable(): void {
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
    if (this.disposed) throw new UsageError('This WebGPU backend was disposed; create a new one with createWebGpuBackend().');
  }

  /** Races a GPU promise against device loss, so nothing waits forever on a dead device. */
  private unlessLost<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lostRejection]);
  }

  private async mapAndCopy(readback: GPUBuffer): Promise<ArrayBuffer> {
    try {
      await this.unlessLost(readback.mapAsync(MapMode.READ));
      return readback.getMappedRange().slice(0);
    } catch (err) {
      if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
      throw err;
    } finally {
      readback.destroy();
    }
  }

  private scratch(bytes: number): GPUBuffer {
    if (bytes > this.device.limits.maxBufferSize) {
      throw new WebGpuLimitError(`a request of ${bytes} bytes exceeds this device's maxBufferSize ${this.device.limits.maxBufferSize}; ask for fewer values per call`);
    }
    return this.device.createBuffer({ label: 'ivon-edge scratch', size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
  }

  private async runAndRead(kernel: KernelName, dispatches: Dispatch[], out: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const readback = this.device.createBuffer({ label: 'ivon-edge readback', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.runner.run(kernel, dispatches, (encoder) => encoder.copyBufferToBuffer(out, 0, readback, 0, bytes));
    out.destroy();
    return this.mapAndCopy(readback);
  }

  /**
   * One kernel over a range of an arena: chunked to the limits, each chunk binding its window of
   * every role. A kernel with a per-element prior variant runs it on an arena with a prior,
   * binding the prior roles after `roles` (which name the epsilon role last for options.epsilon).
   */
  private elementwise(
    kernel: KernelName,
    arena: Arena,
    roles: readonly Role[],
    range: Range,
    scalars: { ints?: number[]; floats?: number[] },
    options: { extra?: GPUBufferBinding[]; after?: (encoder: GPUCommandEncoder) => void; epsilon?: boolean } = {},
  ): void {
    if (range.count === 0) return;
    const a = arena as GpuArena;
    const extra = options.extra ?? [];
    const priorVariant = (KERNELS[kernel] as KernelSpec).prior;
    const prior = hasPrior(arena) && priorVariant !== undefined;
    if (prior) roles = [...roles, ...priorVariant.storage.map((b) => b.name as Role)];
    const buffers = roles.map((role) => this.roleBuffer(arena, role));
    const perInvocation = KERNELS[kernel].elementsPerInvocation;
    const chunks = planChunks(range.start, range.count, a.bytes, 4, perInvocation, this.limits);
    const dispatches: Dispatch[] = chunks.map((c) => ({
      bindings: [...buffers.map((buffer) => ({ buffer, offset: c.windowOffset, size: c.windowSize })), ...extra],
      invocations: Math.ceil(c.count / perInvocation),
      uniforms: { base: c.base, count: c.count, first: c.start, ints: scalars.ints, floats: scalars.floats },
      cacheBindGroup: extra.length === 0,
    }));
    this.runner.run(kernel, dispatches, options.after, { prior, epsilon: options.epsilon ?? false });
  }

  private roleBuffer(arena: Arena, role: Role): GPUBuffer {
    const buffer = (arena as GpuArena).buffers.get(role);
    if (!buffer) throw new RangeError(`this arena has no '${role}' buffer (roles: ${arena.roles.join(', ')}); create it with that role`);
    return buffer;
  }

  private checkRange(arena: Arena, range: Range, alignment: number, what: string): void {
    const { start, count } = range;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > arena.length) {
      throw new RangeError(`${what}: range [${start}, ${start}+${count}) is not inside the arena's ${arena.length} elements`);
    }
    if (start % alignment !== 0) {
      throw new RangeError(`${what}: range start ${start} must be a multiple of ${alignment} (the layout aligns parameters to 16 elements)`);
    }
  }
}

function ivonScalars(a: IvonUpdateArgs): { ints: number[]; floats: number[] } {
  // An infinite clip radius becomes float32's largest value: the same clamp for every finite u,
  // and no infinity in a uniform for a compiler that assumes finite math.
  const clip = Math.min(a.clipRadius, FLOAT32_MAX);
  return {
    ints: [hessApproxCode(a.hessApprox)],
    floats: [a.ess, a.weightDecay, a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.curvCoef, a.invDebias, a.alpha, clip],
  };
}

/** Uniforms of the regenerated-noise updates: ints0 = (hessApprox, seedHi), ints1 = (sample, step, stream, seedLo). */
function redrawScalars(what: string, s: SampleArgs, a: IvonUpdateArgs): { ints: number[]; floats: number[] } {
  const scalars = ivonScalars(a);
  const rng = u32s(what, { seedHi: s.seedHi, sample: s.sample, step: s.step, stream: s.stream, seedLo: s.seedLo });
  return { ints: [scalars.ints[0], rng[0], 0, 0, rng[1], rng[2], rng[3], rng[4]], floats: scalars.floats };
}

/** Checks that every value is a uint32 and returns them in order. */
function u32s(what: string, values: Record<string, number>): number[] {
  return Object.entries(values).map(([name, v]) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}: ${name} must be an integer in [0, 2^32), got ${v}`);
    return v;
  });
}
