// Builds and submits the model toolkit's GPU work (the optimizer's kernels have gpu/kernel-runner.ts;
// these kernels bind whole buffers and take element offsets and shapes as uniforms, so they need a
// different uniform layout). Same discipline: every pipeline compiled at init, asynchronously;
// each dispatch gets its own 256-byte slot of a uniform ring, written with one writeBuffer just
// before the submit that uses it (a writeBuffer is a queue operation, so it never changes what an
// earlier submit reads); a whole forward/backward pass is one compute pass and one submit.

import { BindGroupCache } from '../bind-group-cache.js';
import { BufferUsage, ShaderStage } from '../usage.js';
import { NN_KERNELS, type NnKernelName } from './nn-kernels.js';

const SLOT_BYTES = 256; // the largest minUniformBufferOffsetAlignment the spec allows
const UNIFORM_BYTES = 64; // every kernel's Params fits in 16 u32
const RING_SLOTS = 512;

export interface NnDispatch {
  kernel: NnKernelName;
  /** Storage buffers in the kernel's binding order (whole buffers). */
  buffers: readonly GPUBuffer[];
  /** The kernel's Params words in declaration order (all u32). */
  words: readonly number[];
  workgroups: { x: number; y: number };
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class NnRunner {
  private readonly ring: GPUBuffer;
  private readonly staging = new Uint32Array((SLOT_BYTES / 4) * RING_SLOTS);
  private cursor = 0;
  private readonly bindGroups = new BindGroupCache();

  private constructor(
    readonly device: GPUDevice,
    private readonly kernels: Map<NnKernelName, Compiled>,
  ) {
    this.ring = device.createBuffer({ label: 'ivon-edge nn uniforms', size: SLOT_BYTES * RING_SLOTS, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  }

  /** Compiles every kernel in parallel; a WGSL error surfaces here with the compiler's messages. */
  static async create(device: GPUDevice): Promise<NnRunner> {
    const names = Object.keys(NN_KERNELS) as NnKernelName[];
    const compiled = await Promise.all(names.map((name) => compile(device, name)));
    return new NnRunner(device, new Map(names.map((name, i) => [name, compiled[i]])));
  }

  /** Encodes the dispatches in order in one compute pass (then `after`) and submits them. */
  submit(dispatches: readonly NnDispatch[], after?: (encoder: GPUCommandEncoder) => void): void {
    for (let from = 0; from < dispatches.length || from === 0; from += RING_SLOTS) {
      const part = dispatches.slice(from, from + RING_SLOTS);
      const last = from + RING_SLOTS >= dispatches.length;
      this.submitPart(part, last ? after : undefined);
    }
  }

  /** Drops cached bind groups that use any of these buffers (call before destroying them). */
  forget(buffers: Iterable<GPUBuffer>): void {
    this.bindGroups.forget(buffers);
  }

  destroy(): void {
    this.bindGroups.clear();
    this.ring.destroy();
  }

  private submitPart(dispatches: readonly NnDispatch[], after?: (encoder: GPUCommandEncoder) => void): void {
    if (this.cursor + dispatches.length > RING_SLOTS) this.cursor = 0;
    const first = this.cursor;
    this.cursor += dispatches.length;
    const encoder = this.device.createCommandEncoder();
    if (dispatches.length > 0) {
      const slotWords = SLOT_BYTES / 4;
      dispatches.forEach((d, i) => {
        if (d.words.length > UNIFORM_BYTES / 4) throw new Error(`nn kernel '${d.kernel}': ${d.words.length} uniform words, at most ${UNIFORM_BYTES / 4}`);
        const at = (first + i) * slotWords;
        this.staging.fill(0, at, at + UNIFORM_BYTES / 4);
        d.words.forEach((w, k) => (this.staging[at + k] = w));
      });
      this.device.queue.writeBuffer(this.ring, first * SLOT_BYTES, this.staging.buffer, first * SLOT_BYTES, dispatches.length * SLOT_BYTES);
      const pass = encoder.beginComputePass();
      dispatches.forEach((d, i) => {
        const compiled = this.kernels.get(d.kernel)!;
        pass.setPipeline(compiled.pipeline);
        pass.setBindGroup(0, this.bindGroupFor(d, compiled.layout), [(first + i) * SLOT_BYTES]);
        pass.dispatchWorkgroups(d.workgroups.x, d.workgroups.y);
      });
      pass.end();
    }
    after?.(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  private bindGroupFor(d: NnDispatch, layout: GPUBindGroupLayout): GPUBindGroup {
    return this.bindGroups.get(
      d.kernel,
      d.buffers.map((buffer) => ({ buffer })),
      () =>
        this.device.createBindGroup({
          layout,
          entries: [
            { binding: 0, resource: { buffer: this.ring, offset: 0, size: UNIFORM_BYTES } },
            ...d.buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
          ],
        }),
    );
  }
}

async function compile(device: GPUDevice, name: NnKernelName): Promise<Compiled> {
  const spec = NN_KERNELS[name];
  const module = device.createShaderModule({ label: `nn ${name}`, code: spec.source });
  const layout = device.createBindGroupLayout({
    label: `nn ${name}`,
    entries: [
      { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_BYTES } },
      ...spec.storage.map((access, i) => ({
        binding: i + 1,
        visibility: ShaderStage.COMPUTE,
        buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
      })),
    ],
  });
  try {
    const pipeline = await device.createComputePipelineAsync({
      label: `nn ${name}`,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    return { pipeline, layout };
  } catch (err) {
    const info = await module.getCompilationInfo();
    const messages = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new Error(`WGSL kernel 'nn ${name}' failed to compile: ${(err as Error).message}\n${messages}`);
  }
}
