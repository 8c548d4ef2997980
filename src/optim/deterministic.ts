// What AdamW and SGD share: the block presents the weights themselves (a point-mass "sample"),
// so training loops written for IVON run unchanged; one train block per step.

import type { Role } from '../backend.js';
import { UsageError } from '../errors.js';
import type { ParamSlot } from './layout.js';
import { Optimizer, type GroupHyperBase, type SampledParamsOptions } from './optimizer.js';
import type { OptimizerSnapshot } from './snapshot.js';
import * as check from './validate.js';

export abstract class DeterministicOptimizer<Hyper extends GroupHyperBase> extends Optimizer<Hyper> {
  protected thetaRole(_slot: ParamSlot): Role {
    return 'mean';
  }

  protected checkBlockStart(train: boolean, options: SampledParamsOptions): void {
    if (options.epsilon !== undefined) throw new UsageError(`sampledParams: epsilon is an IVON test hook; ${this.kind} draws no noise`);
    if (train && (this.samples > 0 || this.poisoned)) {
      throw new UsageError(`sampledParams: ${this.kind} takes one train block per step; call step() first (average several minibatches inside one block instead)`);
    }
  }

  protected async beforeBlock(): Promise<number> {
    return 0;
  }

  protected async accumulate(): Promise<void> {
    this.samples += 1;
  }

  protected discardSamples(): void {}

  protected globalOptions(): Record<string, number | boolean | string> {
    return { nonFinite: this.nonFinite };
  }

  protected rngState(): { seed: number; predictDraws: number } {
    return { seed: 0, predictDraws: 0 };
  }

  protected parseRestoredGlobals(s: OptimizerSnapshot): () => void {
    const o = s.options ?? {};
    check.knownKeys('restore', o, ['nonFinite']);
    const nonFinite = check.oneOf('restore', 'nonFinite', o.nonFinite, ['error', 'skip'] as const);
    return () => {
      this.nonFinite = nonFinite;
    };
  }
}
