// Where each parameter lives in an optimizer's arena. Parameters are packed group by group, each
// starting at a multiple of 16 elements (64 bytes: SIMD-aligned, and one RNG chunk per 16
// elements), so a group is one contiguous range and one kernel call updates it.

import type { Range } from '../backend.js';
import { FORBIDDEN_KEYS } from '../checkpoint/format.js';
import { ConfigError } from '../errors.js';

export const ALIGN_ELEMENTS = 16;

export interface ParamSlot {
  readonly name: string;
  readonly group: number;
  readonly start: number;
  readonly count: number;
  readonly shape: readonly number[];
}

export interface GroupSlot {
  readonly index: number;
  /** Covers every parameter of the group plus alignment padding. */
  readonly range: Range;
  readonly params: readonly string[];
  readonly frozen: boolean;
}

export interface Layout {
  readonly length: number;
  readonly params: ReadonlyMap<string, ParamSlot>;
  readonly groups: readonly GroupSlot[];
}

export interface GroupParams {
  values: Record<string, Float32Array>;
  shapes: Record<string, readonly number[]>;
  frozen: boolean;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;

export function buildLayout(groups: readonly GroupParams[]): Layout {
  const params = new Map<string, ParamSlot>();
  const slots: GroupSlot[] = [];
  let cursor = 0;
  groups.forEach((group, index) => {
    const start = cursor;
    const names = Object.keys(group.values);
    for (const name of names) {
      const count = group.values[name].length;
      params.set(name, { name, group: index, start: cursor, count, shape: group.shapes[name] });
      cursor = alignUp(cursor + count);
    }
    slots.push({ index, range: { start, count: cursor - start }, params: names, frozen: group.frozen });
  });
  return { length: Math.max(cursor, ALIGN_ELEMENTS), params, groups: slots };
}

/** Validates a group's parameter values and shapes and returns them as Float32Arrays. */
export function checkGroupParams(
  where: string,
  values: unknown,
  shapes: unknown,
  seen: Set<string>,
): { values: Record<string, Float32Array>; shapes: Record<string, number[]> } {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new ConfigError(`${where}: params must be an object mapping names to Float32Array initial values, got ${Array.isArray(values) ? 'an array' : typeof values}`);
  }
  // `{ __proto__: values }` in an object literal sets the prototype instead of adding a key: the
  // parameter would vanish without a word. Names live in null-prototype records from here on.
  const proto = Object.getPrototypeOf(values);
  if (proto !== Object.prototype && proto !== null) {
    throw new ConfigError(
      `${where}: params has a prototype other than Object.prototype — in an object literal, '__proto__: values' sets the prototype instead of adding a parameter named '__proto__'. Write ['__proto__']: values (a computed key) or choose another name.`,
    );
  }
  const names = Object.keys(values);
  if (names.length === 0) throw new ConfigError(`${where}: params is empty; give at least one parameter`);
  const shapeMap = (shapes ?? Object.create(null)) as Record<string, unknown>;
  if (typeof shapeMap !== 'object' || shapeMap === null) throw new ConfigError(`${where}: shapes must be an object mapping names to number arrays`);
  for (const name of Object.keys(shapeMap)) {
    if (!names.includes(name)) throw new ConfigError(`${where}: shapes names '${name}', which is not among params (${names.join(', ')})`);
  }
  const outValues: Record<string, Float32Array> = Object.create(null);
  const outShapes: Record<string, number[]> = Object.create(null);
  for (const name of names) {
    if (name.length === 0 || name.length > 256) throw new ConfigError(`${where}: parameter names must be 1–256 characters, got '${name}'`);
    if (FORBIDDEN_KEYS.has(name)) {
      throw new ConfigError(
        `${where}: parameter name '${name}' is reserved (${[...FORBIDDEN_KEYS].join(', ')}): a checkpoint cannot hold it, since it would reach Object.prototype where the file is read. Rename the parameter.`,
      );
    }
    if (seen.has(name)) throw new ConfigError(`${where}: parameter '${name}' appears twice; names must be unique across groups`);
    seen.add(name);
    const raw = (values as Record<string, unknown>)[name];
    let data: Float32Array;
    if (raw instanceof Float32Array) data = raw;
    else if (Array.isArray(raw) && raw.every((x) => typeof x === 'number')) data = Float32Array.from(raw);
    else throw new ConfigError(`${where}: parameter '${name}' must be a Float32Array (or number[]), got ${Object.prototype.toString.call(raw)}`);
    if (data.length === 0) throw new ConfigError(`${where}: parameter '${name}' is empty`);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new ConfigError(`${where}: parameter '${name}' has a non-finite initial value ${data[i]} at index ${i}`);
    }
    const shape = (Object.hasOwn(shapeMap, name) ? shapeMap[name] : undefined) ?? [data.length];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ConfigError(`${where}: shape of '${name}' must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new ConfigError(`${where}: shape [${shape.join(', ')}] of '${name}' has ${size} elements but the values have ${data.length}`);
    }
    outValues[name] = data;
    outShapes[name] = [...(shape as number[])];
  }
  return { values: outValues, shapes: outShapes };
}
