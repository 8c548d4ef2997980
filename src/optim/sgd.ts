// SGD with (heavy-ball) momentum and L2 weight decay, PyTorch's formulation, as the plain baseline.

import type { Role } from '../backend.js';
import { ConfigError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { DeterministicOptimizer } from './deterministic.js';
import type { CommonOptions, GroupOptionsBase, StateRoles } from './optimizer.js';
import * as check from './validate.js';

export interface SgdGroupHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  frozen: boolean;
}

export type SgdGroupOptions = GroupOptionsBase & Partial<Omit<SgdGroupHyper, 'frozen'>>;

export interface SgdOptions extends Partial<Omit<SgdGroupHyper, 'frozen'>>, CommonOptions {
  params?: GroupOptionsBase['params'];
  shapes?: GroupOptionsBase['shapes'];
  frozen?: boolean;
  groups?: SgdGroupOptions[];
}

const GROUP_KEYS = ['lr', 'momentum', 'weightDecay'] as const;
const ROLES: Role[] = ['mean', 'grad', 'momentum'];

function parseGroup(where: string, raw: Record<string, unknown>): SgdGroupHyper {
  if (raw.lr === undefined) throw new ConfigError(`${where}: lr is required`);
  return {
    lr: check.nonNegative32(where, 'lr', raw.lr),
    momentum: check.unitIntervalOpen(where, 'momentum', raw.momentum ?? 0),
    weightDecay: check.nonNegative32(where, 'weightDecay', raw.weightDecay ?? 0),
    frozen: false,
  };
}

export class SGD extends DeterministicOptimizer<SgdGroupHyper> {
  readonly kind = 'sgd' as const;

  constructor(runtime: Runtime, options: SgdOptions) {
    super(runtime, 'SGD', (options ?? {}) as Record<string, unknown>, ['nonFinite'], GROUP_KEYS, ROLES, parseGroup);
  }

  protected stateRoles(): StateRoles {
    return [
      ['mean', 'mean'],
      ['momentum', 'momentum'],
    ];
  }

  protected applyUpdate(): void {
    this.layout.groups.forEach((group, i) => {
      if (group.frozen) return;
      const h = this.hyper[i];
      this.backend.sgdUpdate(this.arena, group.range, { lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay });
    });
  }

  protected parseRestoredGroup(where: string, hyper: Record<string, unknown>): SgdGroupHyper {
    const { frozen: _frozen, ...rest } = hyper;
    check.knownKeys(where, rest, GROUP_KEYS);
    return parseGroup(where, rest);
  }
}
