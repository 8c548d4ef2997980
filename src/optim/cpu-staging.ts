// CPU copies that stand in for zero-copy views on a backend that has none (webgpu), so the
// README's loop — ctx.theta(name) to read θ, ctx.grad(name) to write ∂loss/∂θ — runs unchanged on
// every backend without making the callback async. The block runner stages θ of every parameter to
// the CPU before it calls the callback (one readback per parameter, all enqueued together) and
// uploads the gradients the callback took after it returns. GPU-resident models skip this with
// sampledParams(fn, { cpuViews: false }) and bind ctx.thetaBinding / ctx.gradBinding instead.

import type { Arena, Backend, Role } from '../backend.js';
import type { Layout, ParamSlot } from './layout.js';

export class CpuStaging {
  private thetas = new Map<string, Float32Array>();
  /** Gradient buffers kept between blocks (no allocation per block); `taken` marks this block's. */
  private readonly grads = new Map<string, Float32Array>();
  private readonly taken = new Set<string>();

  constructor(
    private readonly backend: Backend,
    private readonly layout: Layout,
  ) {}

  /** Reads θ of every parameter (role per parameter: 'theta', or 'mean' when frozen). */
  async stageTheta(arena: Arena, roleOf: (slot: ParamSlot) => Role): Promise<void> {
    this.taken.clear();
    const slots = [...this.layout.params.values()];
    const copies = await Promise.all(slots.map((slot) => this.backend.read(arena, roleOf(slot), slot)));
    this.thetas = new Map(slots.map((slot, i) => [slot.name, copies[i]]));
  }

  theta(name: string): Float32Array | undefined {
    return this.thetas.get(name);
  }

  hasGrad(name: string): boolean {
    return this.taken.has(name);
  }

  /** This block's gradient buffer for a parameter; `zero` clears what an earlier block left in it. */
  grad(name: string, count: number, zero: boolean): Float32Array {
    let buffer = this.grads.get(name);
    if (!buffer) this.grads.set(name, (buffer = new Float32Array(count)));
    else if (zero) buffer.fill(0);
    this.taken.add(name);
    return buffer;
  }

  /** Writes the gradients the block took into the backend's grad buffers; forgets θ. */
  upload(arena: Arena): void {
    for (const name of this.taken) this.backend.write(arena, 'grad', this.layout.params.get(name)!.start, this.grads.get(name)!);
    this.taken.clear();
    this.thetas = new Map();
  }

  /** Forgets the block's θ copies and gradients without uploading (the callback threw). */
  discard(): void {
    this.taken.clear();
    this.thetas = new Map();
  }
}
