// Each optimizer's group hyper-parameters and the one set of rules that checks them (IVON.md §1,
// in float64 and in the float32 the kernels compute in). The optimizers' constructors and
// restore(), and the checkpoint decoder, all call these parsers, so a file the decoder accepts is
// one restore() takes, and no rule exists twice.

import { ConfigError } from '../errors.js';
import type { OptimizerKind } from './snapshot.js';
import * as check from './validate.js';

export interface IvonGroupHyper {
  lr: number;
  ess: number;
  hessInit: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  clipRadius: number;
  frozen: boolean;
}

export interface AdamwGroupHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  frozen: boolean;
}

export interface SgdGroupHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  frozen: boolean;
}

export function parseIvonGroup(where: string, raw: Record<string, unknown>): IvonGroupHyper {
  if (raw.lr === undefined) throw new ConfigError(`${where}: lr is required (IVON has no default learning rate; the authors used 0.1–2.5 with rescaleLr)`);
  if (raw.ess === undefined) throw new ConfigError(`${where}: ess is required (effective sample size; start with the training-set size)`);
  const hyper: IvonGroupHyper = {
    lr: check.nonNegative32(where, 'lr', raw.lr),
    ess: check.positive32(where, 'ess', raw.ess),
    hessInit: check.positive32(where, 'hessInit', raw.hessInit ?? 1.0),
    weightDecay: check.nonNegative32(where, 'weightDecay', raw.weightDecay ?? 1e-4),
    beta1: check.unitIntervalOpen(where, 'beta1', raw.beta1 ?? 0.9),
    beta2: check.unitInterval(where, 'beta2', raw.beta2 ?? 0.99999),
    clipRadius: check.clipRadius(where, raw.clipRadius ?? Infinity),
    frozen: false,
  };
  const precision = precision32(hyper.ess, hyper.hessInit, hyper.weightDecay);
  if (!check.isPositiveNormal32(precision)) {
    throw new ConfigError(
      `${where}: ess·(hessInit + weightDecay) = ${hyper.ess}·(${hyper.hessInit} + ${hyper.weightDecay}) is ${precision} in float32, so σ = 1/sqrt(ess·(h+δ)) would be ${precision === 0 ? 'infinite' : 'zero or undefined'}; keep the product between 1.2e-38 and 3.4e38`,
    );
  }
  checkAlpha(where, hyper);
  return hyper;
}

/** ess·(h + δ) as the kernels compute it in float32 (the precision whose root is 1/σ). */
export function precision32(ess: number, hess: number, weightDecay: number): number {
  const f = Math.fround;
  return f(f(ess) * f(f(hess) + f(weightDecay)));
}

/** The rescaled step size lr·(hessInit + δ) must be finite in float32 (it is with rescaleLr on). */
export function checkAlpha(where: string, h: IvonGroupHyper): void {
  const alpha = Math.fround(h.lr * (h.hessInit + h.weightDecay));
  if (!Number.isFinite(alpha)) {
    throw new ConfigError(`${where}: lr·(hessInit + weightDecay) = ${h.lr}·(${h.hessInit} + ${h.weightDecay}) overflows float32 (the rescaled step size); lower lr`);
  }
}

export function parseAdamwGroup(where: string, raw: Record<string, unknown>): AdamwGroupHyper {
  return {
    lr: check.nonNegative32(where, 'lr', raw.lr ?? 1e-3),
    beta1: check.unitIntervalOpen(where, 'beta1', raw.beta1 ?? 0.9),
    beta2: check.unitIntervalOpen(where, 'beta2', raw.beta2 ?? 0.999),
    eps: check.positive32(where, 'eps', raw.eps ?? 1e-8),
    weightDecay: check.nonNegative32(where, 'weightDecay', raw.weightDecay ?? 1e-2),
    frozen: false,
  };
}

export function parseSgdGroup(where: string, raw: Record<string, unknown>): SgdGroupHyper {
  if (raw.lr === undefined) throw new ConfigError(`${where}: lr is required`);
  return {
    lr: check.nonNegative32(where, 'lr', raw.lr),
    momentum: check.unitIntervalOpen(where, 'momentum', raw.momentum ?? 0),
    weightDecay: check.nonNegative32(where, 'weightDecay', raw.weightDecay ?? 0),
    frozen: false,
  };
}

/** The group parser of each optimizer kind (throws ConfigError naming the value and the rule). */
export const GROUP_PARSERS: Record<OptimizerKind, (where: string, raw: Record<string, unknown>) => object> = {
  ivon: parseIvonGroup,
  adamw: parseAdamwGroup,
  sgd: parseSgdGroup,
};
