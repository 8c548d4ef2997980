// What a sampled block's callback receives: the sampled weights θ to read and the gradient
// buffers to write, as zero-copy views on CPU backends or buffer bindings on the GPU. On a backend
// without CPU views (webgpu) the same calls work on staged copies (./cpu-staging.ts), so a loop
// written for the CPU runs unchanged there. It records which gradients were provided so the
// optimizer can name any that were forgotten.
//
// A view into a non-shared WebAssembly.Memory is detached when the memory grows (an allocation
// inside the block: the model's activations, another optimizer): writes to it are silently
// dropped and reads see nothing. The context keeps every gradient view it handed out (a write to
// any of them may be lost) and the last θ view per parameter, and the optimizer refuses a block
// whose views went stale (checkViewsAttached) instead of training on a gradient of zeros.

import type { Arena, Backend, BufferBinding, Role } from '../backend.js';
import { UsageError } from '../errors.js';
import type { CpuStaging } from './cpu-staging.js';
import type { Layout, ParamSlot } from './layout.js';
import * as check from './validate.js';

/** Validates ctx.grad's options (as sampledParams validates its own); returns whether the zero-fill is skipped. */
function gradOptions(name: string, options: unknown): boolean {
  if (options === undefined) return false;
  const where = `grad('${name}', options)`;
  if (options === null || typeof options !== 'object') throw new UsageError(`${where}: options must be an object like { overwrite: true }`);
  check.knownKeys(where, options, ['overwrite']);
  const { overwrite } = options as { overwrite?: unknown };
  return overwrite === undefined ? false : check.boolean(where, 'overwrite', overwrite);
}

export class SampleContext {
  /** Trainable parameters whose gradient the callback asked for or set. */
  readonly provided = new Set<string>();
  private open = true;
  /** CPU views handed out, by "method('name')", to detect detachment at the block's end. */
  private readonly views = new Map<string, Float32Array[]>();

  constructor(
    private readonly backend: Backend,
    private readonly arena: Arena,
    private readonly layout: Layout,
    /** Role the model reads: 'theta' (IVON sample) or 'mean' (AdamW/SGD, or frozen params). */
    private readonly thetaRole: (slot: ParamSlot) => Role,
    /** True in a train block: gradients may be written. */
    readonly train: boolean,
    /** 0-based index of this block among the step's samples (train) or prediction draws. */
    readonly sampleIndex: number,
    /** Copies standing in for CPU views on a backend that has none; undefined: no staging. */
    private readonly staging?: CpuStaging,
  ) {}

  /** The weights the model must use in this block (a zero-copy view, or on webgpu a staged copy). */
  theta(name: string): Float32Array {
    const slot = this.slot(name, 'theta');
    const staged = this.staging?.theta(name);
    if (staged) return staged;
    return this.cpuView(this.thetaRole(slot), slot, 'theta', 'thetaBinding');
  }

  /** A copy of θ on any backend (a GPU readback on webgpu: for tests and debugging, not hot loops). */
  async readTheta(name: string): Promise<Float32Array> {
    const slot = this.slot(name, 'readTheta');
    return this.backend.read(this.arena, this.thetaRole(slot), slot);
  }

  /**
   * The gradient buffer of a trainable parameter, zero-filled on first request in the block. With
   * `{ overwrite: true }` the caller promises to write every element (as the toolkit's backward
   * pass does) and the zero-fill, a 4 B/element pass over memory, is skipped: until written, the
   * view holds whatever an earlier block left there.
   */
  grad(name: string, options?: { overwrite?: boolean }): Float32Array {
    const slot = this.gradSlot(name, 'grad');
    const overwrite = gradOptions(name, options);
    if (this.staging) {
      if (this.provided.has(name) && !this.staging.hasGrad(name)) {
        throw new UsageError(`grad('${name}'): this block already bound the GPU gradient with gradBinding('${name}'); use one or the other for a parameter`);
      }
      const buffer = this.staging.grad(name, slot.count, !overwrite && !this.provided.has(name));
      this.provided.add(name);
      return buffer;
    }
    if (!overwrite && !this.provided.has(name)) this.backend.fill(this.arena, 'grad', slot, 0);
    this.provided.add(name);
    return this.cpuView('grad', slot, 'grad', 'gradBinding');
  }

  /** Copies a whole gradient in (any backend). */
  setGrad(name: string, values: Float32Array): void {
    const slot = this.gradSlot(name, 'setGrad');
    if (!(values instanceof Float32Array) || values.length !== slot.count) {
      throw new UsageError(
        `setGrad('${name}'): expected a Float32Array of ${slot.count} elements (shape [${slot.shape.join(', ')}]), got ${values instanceof Float32Array ? `${values.length} elements` : Object.prototype.toString.call(values)}`,
      );
    }
    if (this.staging) {
      // Staged gradients are uploaded after the block: this copy goes there, so a later grad(name) sees it.
      if (this.provided.has(name) && !this.staging.hasGrad(name)) {
        throw new UsageError(`setGrad('${name}'): this block already bound the GPU gradient with gradBinding('${name}'); use one or the other for a parameter`);
      }
      this.staging.grad(name, slot.count, false).set(values);
    } else this.backend.write(this.arena, 'grad', slot.start, values);
    this.views.delete(`grad('${name}')`); // superseded: the gradient is the copy just written
    this.provided.add(name);
  }

  /** GPU backends: the buffer range holding θ of a parameter. */
  thetaBinding(name: string): BufferBinding {
    const slot = this.slot(name, 'thetaBinding');
    return this.gpuBinding(this.thetaRole(slot), slot, 'thetaBinding', 'theta');
  }

  /** GPU backends: the buffer range the model writes the gradient into (marks it provided; not zeroed). */
  gradBinding(name: string): BufferBinding {
    const slot = this.gradSlot(name, 'gradBinding');
    if (this.staging?.hasGrad(name)) {
      throw new UsageError(`gradBinding('${name}'): this block already wrote the gradient through grad('${name}'); use one or the other for a parameter`);
    }
    this.provided.add(name);
    return this.gpuBinding('grad', slot, 'gradBinding', 'grad');
  }

  close(): void {
    this.open = false;
  }

  /** Throws if a view handed out in this block was detached (the wasm memory grew meanwhile). */
  checkViewsAttached(): void {
    const stale = [...this.views].filter(([, views]) => views.some((v) => v.length === 0)).map(([key]) => key);
    if (stale.length === 0) return;
    throw new UsageError(
      `sampledParams: the view(s) ${stale.join(', ')} were detached during the block — the WebAssembly memory grew (something allocated from the heap), so what was written to them was lost. Nothing was accumulated. Allocate (model buffers, other optimizers) before the block, take views after allocating, or create the runtime with a larger wasm.initialBytes.`,
    );
  }

  private slot(name: string, method: string): ParamSlot {
    if (!this.open) throw new UsageError(`${method}('${name}') called after the sampled block ended; views are only valid inside the block`);
    const slot = this.layout.params.get(name);
    if (!slot) throw new UsageError(`${method}('${name}'): unknown parameter; known parameters are ${[...this.layout.params.keys()].join(', ')}`);
    return slot;
  }

  private gradSlot(name: string, method: string): ParamSlot {
    const slot = this.slot(name, method);
    if (!this.train) throw new UsageError(`${method}('${name}') in a train: false block; gradients are only taken in train: true blocks`);
    if (this.layout.groups[slot.group].frozen) throw new UsageError(`${method}('${name}'): '${name}' is frozen and takes no gradient`);
    return slot;
  }

  private cpuView(role: Role, slot: ParamSlot, method: string, gpuMethod: string): Float32Array {
    const view = this.backend.view(this.arena, role, slot);
    if (!view) {
      throw new UsageError(
        `${method}() has no CPU view on the ${this.backend.kind} backend in a block run with { cpuViews: false }; drop that option to get staged copies, or use ${gpuMethod}(name) to bind the GPU buffer`,
      );
    }
    const key = `${method}('${slot.name}')`;
    // Every gradient view counts (a lost write to an old one leaves zeros); θ is only read, so its latest view.
    this.views.set(key, method === 'grad' ? [...(this.views.get(key) ?? []), view] : [view]);
    return view;
  }

  private gpuBinding(role: Role, slot: ParamSlot, method: string, cpuMethod: string): BufferBinding {
    if (!this.backend.binding) throw new UsageError(`${method}() needs the webgpu backend; on ${this.backend.kind} use ${cpuMethod}(name)`);
    return this.backend.binding(this.arena, role, slot);
  }
}
