// SGD with (heavy-ball) momentum and L2 weight decay, PyTorch's formulation, as the plain baseline.

import type { Role } from '../backend.js';
import { ConfigError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { DeterministicOptimizer } from './deterministic.js';
import type { CommonOptions, GroupOptionsBase, StateRoles } from './optimizer.js';
import * as check from './validate.js';
import { parseSgdGroup as parseGroup, type SgdGroupHyper } from './hyper.js';

export type { SgdGroupHyper } from './hyper.js';


export type SgdGroupOptions = GroupOptionsBase & Partial<Omit<SgdGroupHyper, 'frozen'>>;

export interface SgdOptions extends Partial<Omit<SgdGroupHyper, 'frozen'>>, CommonOptions {
  params?: GroupOptionsBase['params'];
  shapes?: GroupOptionsBase['shapes'];
  frozen?: boolean;
  groups?: SgdGroupOptions[];
}

const GROUP_KEYS = ['lr', 'momentum', 'weightDecay'] as const;
const ROLES: Role[] = ['mean', 'grad', 'momentum'];


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
