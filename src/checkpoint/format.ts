// The names this project writes into a checkpoint, in one place: the metadata keys, the format
// version, and which tensors each optimizer kind owns. The decoder and encoder both read from here.

import type { OptimizerKind, TensorState } from '../optim/snapshot.js';

export const FORMAT_NAME = 'ivon-edge.checkpoint';
export const FORMAT_VERSION = '1';
export const SUPPORTED_VERSIONS: readonly string[] = [FORMAT_VERSION];

/** Keys of the safetensors `__metadata__` object (all values are strings, as the format requires). */
export const META = {
  format: 'format',
  version: 'format_version',
  kind: 'optimizer',
  step: 'step',
  skippedSteps: 'skipped_steps',
  options: 'options',
  groups: 'groups',
  rng: 'rng',
} as const;

export const KINDS: readonly OptimizerKind[] = ['ivon', 'adamw', 'sgd'];

/** A TensorState field that holds data (every field but the shape). */
export type TensorRole = Exclude<keyof TensorState, 'shape'>;

type RoleUse = 'required' | 'optional';

/**
 * Every tensor a parameter can carry: the suffix its tensor has in the file and, per optimizer
 * kind, whether it must or may be there (absent: the kind does not use it). A new optional
 * per-parameter tensor is one line here (plus its TensorState field). Required means: restore()
 * needs it (SGD keeps its momentum buffer even at momentum 0).
 */
export const TENSOR_ROLES: Record<TensorRole, { suffix: string; use: Partial<Record<OptimizerKind, RoleUse>> }> = {
  mean: { suffix: '.mean', use: { ivon: 'required', adamw: 'required', sgd: 'required' } },
  hess: { suffix: '.hess', use: { ivon: 'required' } },
  momentum: { suffix: '.momentum', use: { ivon: 'required', adamw: 'required', sgd: 'required' } },
  expAvgSq: { suffix: '.exp_avg_sq', use: { adamw: 'required' } },
  // IVON's per-element prior (docs/IVON.md §1): for every parameter or for none (checkTensorSets).
  priorMean: { suffix: '.prior_mean', use: { ivon: 'optional' } },
  priorPrecision: { suffix: '.prior_precision', use: { ivon: 'optional' } },
};

export const ROLES = Object.keys(TENSOR_ROLES) as TensorRole[];

export const SUFFIX = Object.fromEntries(ROLES.map((r) => [r, TENSOR_ROLES[r].suffix])) as Record<TensorRole, string>;

/** Tensors every parameter must have, per kind. */
export const REQUIRED_ROLES = rolesFor('required');

/** Tensors a parameter may have, per kind. */
export const ALLOWED_ROLES = rolesFor('required', 'optional');

function rolesFor(...uses: RoleUse[]): Record<OptimizerKind, readonly TensorRole[]> {
  const pick = (kind: OptimizerKind) => ROLES.filter((r) => uses.includes(TENSOR_ROLES[r].use[kind] as RoleUse));
  return { ivon: pick('ivon'), adamw: pick('adamw'), sgd: pick('sgd') };
}

/** Names that would reach Object.prototype if used as plain-object keys: never accepted. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
