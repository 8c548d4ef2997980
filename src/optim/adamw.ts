// AdamW (Loshchilov & Hutter, decoupled weight decay; PyTorch's update order) on the same
// parameter API and kernel style as IVON, so comparisons are like for like.

import type { Role } from '../backend.js';
import type { Runtime } from '../runtime.js';
import { DeterministicOptimizer } from './deterministic.js';
import type { CommonOptions, GroupOptionsBase, StateRoles } from './optimizer.js';
import * as check from './validate.js';
import { parseAdamwGroup as parseGroup, type AdamwGroupHyper } from './hyper.js';

export type { AdamwGroupHyper } from './hyper.js';


export type AdamwGroupOptions = GroupOptionsBase & Partial<Omit<AdamwGroupHyper, 'frozen'>>;

export interface AdamwOptions extends Partial<Omit<AdamwGroupHyper, 'frozen'>>, CommonOptions {
  params?: GroupOptionsBase['params'];
  shapes?: GroupOptionsBase['shapes'];
  frozen?: boolean;
  groups?: AdamwGroupOptions[];
}

const GROUP_KEYS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'] as const;
const ROLES: Role[] = ['mean', 'grad', 'momentum', 'expAvgSq'];


export class AdamW extends DeterministicOptimizer<AdamwGroupHyper> {
  readonly kind = 'adamw' as const;

  constructor(runtime: Runtime, options: AdamwOptions) {
    super(runtime, 'AdamW', (options ?? {}) as Record<string, unknown>, ['nonFinite'], GROUP_KEYS, ROLES, parseGroup);
  }

  protected stateRoles(): StateRoles {
    return [
      ['mean', 'mean'],
      ['momentum', 'momentum'],
      ['expAvgSq', 'expAvgSq'],
    ];
  }

  protected applyUpdate(t: number): void {
    this.layout.groups.forEach((group, i) => {
      if (group.frozen) return;
      const h = this.hyper[i];
      this.backend.adamwUpdate(this.arena, group.range, {
        stepSize: h.lr / (1 - Math.pow(h.beta1, t)),
        decayFactor: 1 - h.lr * h.weightDecay,
        beta1: h.beta1,
        oneMinusBeta1: 1 - h.beta1,
        beta2: h.beta2,
        oneMinusBeta2: 1 - h.beta2,
        eps: h.eps,
        invBiasCorrection2Sqrt: 1 / Math.sqrt(1 - Math.pow(h.beta2, t)),
      });
    });
  }

  protected parseRestoredGroup(where: string, hyper: Record<string, unknown>): AdamwGroupHyper {
    const { frozen: _frozen, ...rest } = hyper;
    check.knownKeys(where, rest, GROUP_KEYS);
    return parseGroup(where, rest);
  }
}
