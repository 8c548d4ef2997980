// The one place that builds pipelines, keeps bind groups and submits. Every pipeline is compiled
// at init (createComputePipelineAsync, in parallel), a kernel's variants too (gpu/kernels.ts: the
// per-element prior, z read from 'epsilon'), except a variant with more storage bindings than the
// device allows per stage (has() says which exist). A kernel call becomes one command encoder
// with one compute pass (a dispatch per chunk) and one submit, so anything the caller enqueues
// afterwards (a writeBuffer, a model's own submit) is ordered after it on the queue.
//
// Uniforms: each dispatch gets its own 256-byte slot in a ring buffer, bound with a dynamic
// offset. The slots of one call are written with one writeBuffer just before its submit. A
// writeBuffer is a queue operation, so it cannot affect dispatches submitted before it; and within
// a call no two dispatches share a slot. So no queued dispatch ever sees a later call's uniforms
// (the hazard: writeBuffer applies at once on the queue, recorded passes run when submitted).

import { BindGroupCache } from './bind-group-cache.js';
import type { DispatchLimits, Grid } from './dispatch-plan.js';
import { gridFor } from './dispatch-plan.js';
import { allVariants, PLAIN, variantKey, variantSource, type KernelName, type Variant } from './kernels.js';
import { kernelModule, PARAMS_BYTES } from './prelude.wgsl.js';
import { BufferUsage, ShaderStage } from './usage.js';

/** Values of the shared uniform block (prelude.wgsl.ts); rowSize comes from the grid. */
export interface Uniforms {
  base: number;
  count: number;
  first: number;
  /** Up to 8 u32 scalars (ints0, ints1). */
  ints?: readonly number[];
  /** Up to 12 f32 scalars (f0, f1, f2), rounded to float32 here. */
  floats?: readonly number[];
}

export interface Dispatch {
  /** Storage bindings in the kernel's declared order. */
  bindings: readonly GPUBufferBinding[];
  invocations: number;
  uniforms: Uniforms;
  /** Keep the bind group for reuse (arena buffers); scratch buffers pass false. */
  cacheBindGroup: boolean;
}

const SLOT_BYTES = 256; // the largest minUniformBufferOffsetAlignment the spec allows
const RING_SLOTS = 1024;

interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class KernelRunner {
  private readonly uniformRing: GPUBuffer;
  private readonly staging = new ArrayBuffer(SLOT_BYTES * RING_SLOTS);
  private ringCursor = 0;
  private readonly bindGroups = new BindGroupCache();
  private timestamps: { querySet: GPUQuerySet; capacity: number; used: number } | undefined;

  private constructor(
    readonly device: GPUDevice,
    /** By variantKey: the kernel's name, with '+epsilon' / '+prior' for its variants. */
    private readonly kernels: Map<string, CompiledKernel>,
    private readonly limits: DispatchLimits,
  ) {
    this.uniformRing = device.createBuffer({
      label: 'ivon-edge uniforms',
      size: SLOT_BYTES * RING_SLOTS,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
  }

  /** Compiles every kernel; a WGSL error surfaces here with the compiler's messages. */
  static async create(device: GPUDevice, limits: DispatchLimits): Promise<KernelRunner> {
    const fits = ([name, v]: [KernelName, Variant]) => variantSource(name, v)!.storage.length <= device.limits.maxStorageBuffersPerShaderStage;
    const variants = allVariants().filter(fits);
    const compiled = await Promise.all(variants.map(([name, v]) => compileKernel(device, name, v)));
    return new KernelRunner(device, new Map(variants.map(([name, v], i) => [variantKey(name, v), compiled[i]])), limits);
  }

  /** Whether this variant of the kernel was compiled (it exists and fits the device's bindings per stage). */
  has(kernel: KernelName, variant: Variant): boolean {
    return this.kernels.has(variantKey(kernel, variant));
  }

  /**
   * Encodes the dispatches (then `after`, e.g. a copy to a readback buffer) and submits them.
   * `variant`: which compiled form runs (the bindings of its epsilon, then its prior, follow the kernel's own).
   */
  run(kernel: KernelName, dispatches: readonly Dispatch[], after?: (encoder: GPUCommandEncoder) => void, variant: Variant = PLAIN): void {
    const key = variantKey(kernel, variant);
    if (!this.kernels.has(key)) throw new Error(`internal: kernel '${key}' was not compiled (no such variant, or too many bindings for this device)`);
    for (let from = 0; from < dispatches.length; from += RING_SLOTS) {
      const part = dispatches.slice(from, from + RING_SLOTS);
      const last = from + RING_SLOTS >= dispatches.length;
      this.submitPart(key, part, last ? after : undefined);
    }
    if (dispatches.length === 0 && after) this.encodeAndSubmit(after);
  }

  /** Submits work that needs no kernel (copies, clears). */
  encodeAndSubmit(record: (encoder: GPUCommandEncoder) => void): void {
    const encoder = this.device.createCommandEncoder();
    record(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Drops cached bind groups that reference any of these buffers (before they are destroyed). */
  forget(buffers: Iterable<GPUBuffer>): void {
    this.bindGroups.forget(buffers);
  }

  /**
   * While set, every compute pass writes its begin/end GPU timestamps into consecutive slots of
   * the query set (gpu/timing.ts); passes beyond its capacity are not timed.
   */
  recordTimestamps(querySet: GPUQuerySet | undefined, capacity = 0): void {
    this.timestamps = querySet ? { querySet, capacity, used: 0 } : undefined;
  }

  /** Query slots written since recordTimestamps (2 per pass). */
  get timestampsUsed(): number {
    return this.timestamps?.used ?? 0;
  }

  destroy(): void {
    this.bindGroups.clear();
    this.uniformRing.destroy();
  }

  private submitPart(kernel: string, dispatches: readonly Dispatch[], after?: (encoder: GPUCommandEncoder) => void): void {
    const compiled = this.kernels.get(kernel)!;
    if (this.ringCursor + dispatches.length > RING_SLOTS) this.ringCursor = 0;
    const firstSlot = this.ringCursor;
    this.ringCursor += dispatches.length;
    const grids = dispatches.map((d, i) => {
      const grid = gridFor(d.invocations, this.limits.maxWorkgroupsPerDimension);
      this.stageUniforms(firstSlot + i, d.uniforms, grid);
      return grid;
    });
    this.device.queue.writeBuffer(this.uniformRing, firstSlot * SLOT_BYTES, this.staging, firstSlot * SLOT_BYTES, dispatches.length * SLOT_BYTES);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass(this.nextTimestampWrites());
    pass.setPipeline(compiled.pipeline);
    dispatches.forEach((d, i) => {
      pass.setBindGroup(0, this.bindGroupFor(kernel, compiled.layout, d), [(firstSlot + i) * SLOT_BYTES]);
      pass.dispatchWorkgroups(grids[i].x, grids[i].y);
    });
    pass.end();
    after?.(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  private nextTimestampWrites(): GPUComputePassDescriptor {
    const t = this.timestamps;
    if (!t || t.used + 2 > t.capacity) return {};
    const writes = { querySet: t.querySet, beginningOfPassWriteIndex: t.used, endOfPassWriteIndex: t.used + 1 };
    t.used += 2;
    return { timestampWrites: writes };
  }

  private stageUniforms(slot: number, u: Uniforms, grid: Grid): void {
    const words = new Uint32Array(this.staging, slot * SLOT_BYTES, PARAMS_BYTES / 4);
    const floats = new Float32Array(this.staging, slot * SLOT_BYTES, PARAMS_BYTES / 4);
    words.fill(0);
    words[0] = u.base;
    words[1] = u.count;
    words[2] = u.first;
    words[3] = grid.rowSize;
    (u.ints ?? []).forEach((v, i) => (words[4 + i] = v));
    (u.floats ?? []).forEach((v, i) => (floats[12 + i] = v));
  }

  private bindGroupFor(kernel: string, layout: GPUBindGroupLayout, d: Dispatch): GPUBindGroup {
    const create = () =>
      this.device.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: this.uniformRing, offset: 0, size: PARAMS_BYTES } },
          ...d.bindings.map((resource, i) => ({ binding: i + 1, resource })),
        ],
      });
    return d.cacheBindGroup ? this.bindGroups.get(kernel, d.bindings, create) : create();
  }
}

async function compileKernel(device: GPUDevice, name: KernelName, variant: Variant): Promise<CompiledKernel> {
  const { storage, body } = variantSource(name, variant)!;
  const code = kernelModule(storage, body);
  const label = variantKey(name, variant);
  const module = device.createShaderModule({ label, code });
  const layout = device.createBindGroupLayout({
    label,
    entries: [
      { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAMS_BYTES } },
      ...storage.map((b, i) => ({
        binding: i + 1,
        visibility: ShaderStage.COMPUTE,
        buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
      })),
    ],
  });
  try {
    const pipeline = await device.createComputePipelineAsync({
      label,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    return { pipeline, layout };
  } catch (err) {
    const info = await module.getCompilationInfo();
    const messages = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new Error(`WGSL kernel '${label}' failed to compile: ${(err as Error).message}\n${messages}`);
  }
}
