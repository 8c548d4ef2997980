// The names this project writes into a checkpoint, in one place: the metadata keys, the format
// version, and which tensors each optimizer kind owns. The decoder and encoder both read from here.

import type { OptimizerKind } from '../optim/snapshot.js';

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

/** A TensorState field that holds data, and the suffix its tensor carries in the file. */
export type TensorRole = 'mean' | 'hess' | 'momentum' | 'expAvgSq';

export const SUFFIX: Record<TensorRole, string> = {
  mean: '.mean',
  hess: '.hess',
  momentum: '.momentum',
  expAvgSq: '.exp_avg_sq',
};

export const ROLES: readonly TensorRole[] = ['mean', 'hess', 'momentum', 'expAvgSq'];

/** Tensors every parameter must have, per kind. SGD's momentum is all-or-none (see roleSetsFor). */
export const REQUIRED_ROLES: Record<OptimizerKind, readonly TensorRole[]> = {
  ivon: ['mean', 'hess', 'momentum'],
  adamw: ['mean', 'momentum', 'expAvgSq'],
  sgd: ['mean'],
};

/** Tensors a parameter may have, per kind. */
export const ALLOWED_ROLES: Record<OptimizerKind, readonly TensorRole[]> = {
  ivon: ['mean', 'hess', 'momentum'],
  adamw: ['mean', 'momentum', 'expAvgSq'],
  sgd: ['mean', 'momentum'],
};

/** Names that would reach Object.prototype if used as plain-object keys: never accepted. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
