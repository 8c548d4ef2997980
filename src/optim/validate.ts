// Hyper-parameter checks shared by every optimizer: each names the option, the value it got and
// the accepted range, and NaN fails every check (IVON.md §1).

import { ConfigError } from '../errors.js';

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : `${typeof value} ${JSON.stringify(value)}`;
}

function fail(where: string, name: string, value: unknown, rule: string): never {
  throw new ConfigError(`${where}: ${name} must be ${rule}, got ${describe(value)}`);
}

export function isNumber(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value);
}

export function checkFinite(where: string, name: string, value: unknown, rule: (v: number) => boolean, text: string): number {
  if (!isNumber(value) || !Number.isFinite(value) || !rule(value)) fail(where, name, value, text);
  return value;
}

/**
 * The smallest positive normal float32. The kernels compute in float32, and WebGPU may flush
 * smaller (subnormal) values to zero, so a positive value must be at least this in float32.
 */
export const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_RANGE = 'in float32 (between 1.2e-38 and 3.4e38)';

/** ≥ 0, and as the float32 the kernels compute with: 0 or finite and normal (not rounded to 0). */
export function nonNegative32(where: string, name: string, v: unknown): number {
  const x = nonNegative(where, name, v);
  if (x !== 0 && !isPositiveNormal32(x)) fail(where, name, v, `0 or finite and > 0 ${FLOAT32_RANGE}, where the kernels compute`);
  return x;
}

/** > 0, and finite and normal as the float32 the kernels compute with. */
export function positive32(where: string, name: string, v: unknown): number {
  const x = positive(where, name, v);
  if (!isPositiveNormal32(x)) fail(where, name, v, `finite and > 0 ${FLOAT32_RANGE}, where the kernels compute`);
  return x;
}

/** x rounds to a positive, finite, normal float32 (not ≤ 0, not subnormal, not Infinity). */
export function isPositiveNormal32(x: number): boolean {
  const f = Math.fround(x);
  return Number.isFinite(f) && f >= FLOAT32_MIN_NORMAL;
}

export const nonNegative = (where: string, name: string, v: unknown) => checkFinite(where, name, v, (x) => x >= 0, 'a finite number ≥ 0');
export const positive = (where: string, name: string, v: unknown) => checkFinite(where, name, v, (x) => x > 0, 'a finite number > 0');
export const unitInterval = (where: string, name: string, v: unknown) =>
  checkFinite(where, name, v, (x) => x >= 0 && x <= 1, 'in [0, 1]');
export const unitIntervalOpen = (where: string, name: string, v: unknown) =>
  checkFinite(where, name, v, (x) => x >= 0 && x < 1, 'in [0, 1) (1 would divide by zero in the debiasing)');

/** clipRadius: > 0 and not rounded to 0 in float32; Infinity (the default) disables clipping. */
export function clipRadius(where: string, v: unknown): number {
  if (!isNumber(v) || !(v > 0) || !(Math.fround(v) >= FLOAT32_MIN_NORMAL)) {
    fail(where, 'clipRadius', v, 'a number > 0 that is not rounded to 0 in float32 (≥ 1.2e-38; Infinity disables clipping)');
  }
  return v;
}

export function positiveInteger(where: string, name: string, v: unknown): number {
  if (!isNumber(v) || !Number.isInteger(v) || v < 1) fail(where, name, v, 'an integer ≥ 1');
  return v;
}

export function seed(where: string, v: unknown): number {
  if (!isNumber(v) || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    fail(where, 'seed', v, 'an integer in [0, 2^53)');
  }
  return v;
}

export function boolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(where, name, v, 'true or false');
  return v;
}

export function oneOf<T extends string>(where: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(where, name, v, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return v as T;
}

/** Rejects option keys the optimizer does not know (catches typos like `learningRate`). */
export function knownKeys(where: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${where}: unknown option '${key}'; known options are ${allowed.join(', ')}`);
    }
  }
}
