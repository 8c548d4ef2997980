// IVON's per-element prior N(μ₀, 1/(ess·δ)) (issue #12): the priorMean / priorPrecision options,
// setPrior's input and a snapshot's prior tensors, each checked completely — in float32, as the
// kernels compute — before any state changes. The optimizer (ivon.ts) owns the buffers; this file
// only decides whether the numbers are acceptable and says why not.

import type { Role } from '../backend.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Layout, ParamSlot } from './layout.js';
import type { OptimizerSnapshot } from './snapshot.js';
import { isPositiveNormal32 } from './validate.js';

/** Per-parameter values by name (a group's parameters for the options; any parameter for setPrior). */
export type PriorValues = Record<string, Float32Array | number[]>;

export interface PriorInput {
  /** μ₀ per parameter: the weight decay pulls toward it instead of 0. */
  mean?: PriorValues;
  /** δ per element: the prior precision in weightDecay's units (finite and > 0 in float32). */
  precision?: PriorValues;
}

/** A validated prior: float32 copies by parameter name. */
export interface CheckedPrior {
  mean: Map<string, Float32Array>;
  precision: Map<string, Float32Array>;
}

/** What the checks need to know about the optimizer. */
export interface PriorTarget {
  layout: Layout;
  /** ess of each group (σ = 1/sqrt(ess·(h+δ)) must stay finite). */
  ess: readonly number[];
  /** The curvature h of a parameter now: one value (hessInit, at construction) or per element. */
  hess(slot: ParamSlot): number | Float32Array;
}

export const PRIOR_ROLES: readonly Role[] = ['priorMean', 'priorPrecision'];

type ErrorClass = new (message: string) => Error;

const f = Math.fround;

/**
 * Validates a prior completely and returns float32 copies. `where` prefixes every message;
 * `Err` is ConfigError for constructor options and UsageError for setPrior.
 */
export function checkPrior(
  where: string,
  input: unknown,
  target: PriorTarget,
  Err: ErrorClass = UsageError,
  labels: { mean: string; precision: string } = { mean: 'mean', precision: 'precision' },
): CheckedPrior {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Err(`${where}: expected { mean?: { name: Float32Array }, precision?: { name: Float32Array } }, got ${describe(input)}`);
  }
  for (const key of Object.keys(input)) {
    if (key !== 'mean' && key !== 'precision') throw new Err(`${where}: unknown key '${key}'; give mean and/or precision`);
  }
  const { mean, precision } = input as { mean?: unknown; precision?: unknown };
  const out: CheckedPrior = { mean: new Map(), precision: new Map() };
  for (const [name, values] of entries(where, labels.mean, mean, Err)) {
    const slot = paramSlot(where, labels.mean, name, target.layout, Err);
    const data = float32Values(where, `${labels.mean} '${name}'`, values, slot, Err);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new Err(`${where}: ${labels.mean} '${name}'[${i}] is ${show(values, i)}, not finite in float32; prior means must be finite`);
    }
    out.mean.set(name, data);
  }
  for (const [name, values] of entries(where, labels.precision, precision, Err)) {
    const slot = paramSlot(where, labels.precision, name, target.layout, Err);
    const data = float32Values(where, `${labels.precision} '${name}'`, values, slot, Err);
    const ess = f(target.ess[slot.group]);
    const hess = target.hess(slot);
    for (let i = 0; i < data.length; i++) {
      const delta = data[i];
      if (!isPositiveNormal32(delta)) {
        throw new Err(
          `${where}: ${labels.precision} '${name}'[${i}] is ${show(values, i)}, which is ${delta} in float32; prior precisions must be finite and > 0 in float32 (between 1.2e-38 and 3.4e38; use the group's weightDecay where you want no particular prior)`,
        );
      }
      const h = typeof hess === 'number' ? f(hess) : hess[i];
      const scaled = f(ess * f(h + delta));
      if (!isPositiveNormal32(scaled)) {
        throw new Err(
          `${where}: ${labels.precision} '${name}'[${i}] = ${delta} with the curvature ${h} and ess ${target.ess[slot.group]} gives ess·(h+δ) = ${scaled} in float32; it must be finite and > 0 (between 1.2e-38 and 3.4e38) so that σ = 1/sqrt(ess·(h+δ)) exists`,
        );
      }
    }
    out.precision.set(name, data);
  }
  return out;
}

/**
 * Whether a snapshot carries a per-element prior; throws ConfigError when it carries one for some
 * parameters only, or one that is malformed (not Float32Array of the parameter's size, not finite,
 * a negative precision). h + δ > 0 is checked with the curvature, by the optimizer's restore.
 */
export function snapshotHasPrior(where: string, s: OptimizerSnapshot, layout: Layout): boolean {
  if (!s || typeof s !== 'object' || !s.tensors || typeof s.tensors !== 'object') return false;
  const withPrior = [...layout.params.keys()].filter((name) => s.tensors[name]?.priorMean !== undefined || s.tensors[name]?.priorPrecision !== undefined);
  if (withPrior.length === 0) return false;
  for (const [name, slot] of layout.params) {
    const t = s.tensors[name];
    for (const key of ['priorMean', 'priorPrecision'] as const) {
      const data = t?.[key];
      if (!(data instanceof Float32Array) || data.length !== slot.count) {
        throw new ConfigError(
          `${where}: '${name}.${key}' must be a Float32Array of ${slot.count} elements: a snapshot carries the per-element prior for every parameter or for none`,
        );
      }
      for (let i = 0; i < data.length; i++) {
        const ok = key === 'priorMean' ? Number.isFinite(data[i]) : Number.isFinite(data[i]) && data[i] >= 0;
        if (!ok) throw new ConfigError(`${where}: '${name}.${key}' has ${data[i]} at index ${i}; it must be finite${key === 'priorPrecision' ? ' and >= 0' : ''}`);
      }
    }
  }
  return true;
}

function entries(where: string, key: string, value: unknown, Err: ErrorClass): [string, unknown][] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new Err(`${where}: ${key} must map parameter names to Float32Array (or number[]), got ${describe(value)}`);
  }
  return Object.entries(value);
}

function paramSlot(where: string, key: string, name: string, layout: Layout, Err: ErrorClass): ParamSlot {
  const slot = layout.params.get(name);
  if (!slot) throw new Err(`${where}: ${key} names '${name}', which is not a parameter here; known parameters are ${[...layout.params.keys()].join(', ')}`);
  if (layout.groups[slot.group].frozen) {
    throw new Err(`${where}: ${key} is given for '${name}', which is frozen (no noise, no decay, no update): a prior cannot act on it; remove it or unfreeze the group`);
  }
  return slot;
}

function float32Values(where: string, what: string, values: unknown, slot: ParamSlot, Err: ErrorClass): Float32Array {
  let data: Float32Array;
  if (values instanceof Float32Array) data = values.slice();
  else if (Array.isArray(values) && values.every((x) => typeof x === 'number')) data = Float32Array.from(values);
  else throw new Err(`${where}: ${what} must be a Float32Array (or number[]), got ${describe(values)}`);
  if (data.length !== slot.count) {
    throw new Err(`${where}: ${what} has ${data.length} elements but the parameter has ${slot.count} (shape [${slot.shape.join(', ')}])`);
  }
  return data;
}

function show(values: unknown, i: number): string {
  return String((values as ArrayLike<number>)[i]);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? Object.prototype.toString.call(value) : `${typeof value} ${String(value)}`;
}
