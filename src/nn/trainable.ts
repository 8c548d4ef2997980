// The slice of the optimizer API (docs/API.md) the training loop and prediction use. IVON, AdamW
// and SGD all satisfy it; naming it here keeps fit/predict independent of their generics.
import type { Layout } from '../optim/layout.js';
import type { SampleContext } from '../optim/sample-context.js';

export interface TrainableOptimizer {
  readonly kind: string;
  readonly layout: Layout;
  readonly groupCount: number;
  sampledParams<R>(fn: (ctx: SampleContext) => R | Promise<R>, options?: { train?: boolean; cpuViews?: boolean }): Promise<R>;
  step(): Promise<unknown>;
  setLr(group: number, lr: number): void;
  param(name: string): Float32Array;
}

/**
 * Gradient sink for a sampled block: the optimizer's grad view, or undefined for frozen parameters.
 * The backward pass writes every gradient element (Network.backward overwrites), so the views skip
 * the zero-fill.
 */
export function gradSinkOf(opt: TrainableOptimizer, ctx: SampleContext): (name: string) => Float32Array | undefined {
  return (name) => {
    const slot = opt.layout.params.get(name);
    if (slot && opt.layout.groups[slot.group].frozen) return undefined;
    return ctx.grad(name, { overwrite: true });
  };
}
