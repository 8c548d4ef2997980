// Bind groups cost an allocation each; a training loop binds the same buffers every step. Both
// GPU runners (the optimizer's kernels and the model toolkit's) keep them here, keyed by kernel
// and bound byte ranges, and drop them when a buffer is about to be destroyed.

export interface BoundRange {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly size?: number;
}

export class BindGroupCache {
  private readonly entries = new Map<string, { group: GPUBindGroup; buffers: Set<GPUBuffer> }>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;

  /** The cached group for `kernel` over these ranges, made with `create` the first time. */
  get(kernel: string, ranges: readonly BoundRange[], create: () => GPUBindGroup): GPUBindGroup {
    const key = `${kernel}|${ranges.map((r) => `#${this.idOf(r.buffer)}@${r.offset ?? 0}+${r.size ?? 'all'}`).join('|')}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { group: create(), buffers: new Set(ranges.map((r) => r.buffer)) };
      this.entries.set(key, entry);
    }
    return entry.group;
  }

  /** Drops every group that binds any of these buffers (call before destroying them). */
  forget(buffers: Iterable<GPUBuffer>): void {
    const gone = new Set(buffers);
    for (const [key, entry] of this.entries) {
      if ([...entry.buffers].some((b) => gone.has(b))) this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private idOf(buffer: GPUBuffer): number {
    let id = this.ids.get(buffer);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(buffer, id);
    }
    return id;
  }
}
