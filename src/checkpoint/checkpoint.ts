// OptimizerSnapshot <-> checkpoint bytes. A checkpoint is a safetensors file holding, per
// parameter, `<name>.mean` (+ `.hess`, `.momentum`, `.exp_avg_sq` as the optimizer kind needs) and
// string metadata with the format version, kind, counters, options, groups and RNG position.
// decodeCheckpoint validates the whole file before it returns anything, so a caller that restores
// only what it returns can never be left half-loaded.

import type { GroupState, OptimizerKind, OptimizerSnapshot, TensorState } from '../optim/snapshot.js';
import { CheckpointError, describe, quote } from './errors.js';
import { checkJsonDepth } from './json-depth.js';
import { FORMAT_NAME, FORMAT_VERSION, META, ROLES, SUFFIX, SUPPORTED_VERSIONS, type TensorRole } from './format.js';
import { DEFAULT_LIMITS, encodeSafetensors, parseSafetensors, readF32, type F32Tensor, type HeaderEntry } from './safetensors.js';
import {
  checkCounter,
  checkGroups,
  checkKind,
  checkName,
  checkOptions,
  checkRng,
  checkTensorSets,
  checkTensorValues,
  checkTrainable,
  validateSnapshot,
} from './validate.js';
import { MAX_STEPS } from '../optim/counters.js';

/** What the live optimizer looks like; a checkpoint that differs is refused before any data is read. */
export interface CheckpointExpectation {
  kind?: OptimizerKind;
  /** Every parameter of the live optimizer and its shape. */
  shapes?: Record<string, readonly number[]>;
  /** Parameter names per group, when the grouping must match too. */
  groups?: readonly (readonly string[])[];
}

export interface DecodeOptions {
  /** Largest file accepted, in bytes (default 4 GiB). */
  maxBytes?: number;
  /** Largest JSON header accepted, in bytes (default 16 MiB: safetensors.ts DEFAULT_MAX_HEADER_BYTES says why). */
  maxHeaderBytes?: number;
  expect?: CheckpointExpectation;
}

export const MEANS_FORMAT_NAME = 'ivon-edge.means';

export function encodeCheckpoint(snapshot: OptimizerSnapshot): Uint8Array {
  validateSnapshot(snapshot);
  const tensors: F32Tensor[] = [];
  for (const group of snapshot.groups) {
    for (const name of group.params) {
      const t = snapshot.tensors[name];
      for (const role of ROLES) {
        const data = t[role];
        if (data) tensors.push({ name: name + SUFFIX[role], shape: t.shape, data });
      }
    }
  }
  const groups = snapshot.groups.map((g) => ({ params: g.params, hyper: encodeHyper(g.hyper) }));
  return encodeSafetensors(tensors, {
    [META.format]: FORMAT_NAME,
    [META.version]: FORMAT_VERSION,
    [META.kind]: snapshot.kind,
    [META.step]: String(snapshot.step),
    [META.skippedSteps]: String(snapshot.skippedSteps),
    [META.options]: JSON.stringify(snapshot.options),
    [META.groups]: JSON.stringify(groups),
    [META.rng]: JSON.stringify({ seed: snapshot.rng.seed, predictDraws: snapshot.rng.predictDraws }),
  });
}

/** The weights alone, named by parameter, for inference in any safetensors reader. */
export function exportMeans(snapshot: OptimizerSnapshot): Uint8Array {
  validateSnapshot(snapshot);
  const tensors = snapshot.groups.flatMap((g) =>
    g.params.map((name) => ({ name, shape: snapshot.tensors[name].shape, data: snapshot.tensors[name].mean })),
  );
  return encodeSafetensors(tensors, {
    [META.format]: MEANS_FORMAT_NAME,
    [META.version]: FORMAT_VERSION,
    [META.kind]: snapshot.kind,
    [META.step]: String(snapshot.step),
  });
}

export function decodeCheckpoint(bytes: Uint8Array, options: DecodeOptions = {}): OptimizerSnapshot {
  if (typeof options !== 'object' || options === null) {
    throw new CheckpointError('decodeCheckpoint options must be an object', 'Pass { maxBytes?, maxHeaderBytes?, expect? } or nothing');
  }
  const limits = {
    maxBytes: checkLimit('maxBytes', options.maxBytes, DEFAULT_LIMITS.maxBytes),
    maxHeaderBytes: checkLimit('maxHeaderBytes', options.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes),
  };
  const file = parseSafetensors(bytes, limits);
  const meta = readMetadata(file.metadata);
  const plan = planTensors(meta.kind, meta.groups, file.entries);
  if (options.expect) checkExpectation(options.expect, meta.kind, meta.groups, plan);
  const tensors: Record<string, TensorState> = {};
  for (const group of meta.groups) {
    for (const name of group.params) {
      const { shape, entries } = plan.get(name) as PlannedParam;
      const t: TensorState = { shape: [...shape], mean: new Float32Array(0) };
      for (const [role, entry] of entries) t[role] = readF32(bytes, file.dataStart, entry);
      tensors[name] = t;
    }
  }
  checkTensorValues(meta.kind, meta.groups, tensors);
  const snapshot = { ...meta, tensors };
  checkTrainable(snapshot);
  return snapshot;
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new CheckpointError(`${name} is ${describe(value)}`, `Pass ${name} as a non-negative number of bytes`);
  }
  return value;
}

type Metadata = Omit<OptimizerSnapshot, 'tensors'>;

function readMetadata(meta: Map<string, string>): Metadata {
  const format = meta.get(META.format);
  if (format !== FORMAT_NAME) {
    const fix =
      format === MEANS_FORMAT_NAME
        ? 'This is a mean-only export (exportMeans); it cannot restore an optimizer'
        : 'Only files written by encodeCheckpoint or tools/export_ivon_torch.py can be loaded';
    throw new CheckpointError(`metadata ${META.format} is ${format === undefined ? 'undefined' : quote(format)}, not ${quote(FORMAT_NAME)}`, fix);
  }
  const version = meta.get(META.version);
  if (version === undefined || !SUPPORTED_VERSIONS.includes(version)) {
    throw new CheckpointError(
      `checkpoint format version ${version === undefined ? 'undefined' : quote(version)} is not supported (this build reads ${SUPPORTED_VERSIONS.join(', ')})`,
      'Load it with the version of ivon-edge that wrote it, or upgrade',
    );
  }
  const kind = checkKind(meta.get(META.kind));
  const rawGroups: unknown = parseJson(META.groups, meta);
  const groups = checkGroups(kind, Array.isArray(rawGroups) ? rawGroups.map(decodeGroupJson) : rawGroups);
  const step = checkCounter('step', parseCounter(META.step, meta), MAX_STEPS);
  return {
    kind,
    step,
    skippedSteps: checkCounter('skipped_steps', parseCounter(META.skippedSteps, meta), MAX_STEPS - step),
    options: checkOptions(kind, parseJson(META.options, meta)),
    rng: checkRng(parseJson(META.rng, meta)),
    groups,
  };
}

function requireMeta(key: string, meta: Map<string, string>): string {
  const value = meta.get(key);
  if (value === undefined) {
    throw new CheckpointError(`metadata ${key} is missing`, 'The checkpoint is incomplete: save it again');
  }
  return value;
}

function parseCounter(key: string, meta: Map<string, string>): number {
  const text = requireMeta(key, meta);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) {
    throw new CheckpointError(`metadata ${key} is ${JSON.stringify(text.slice(0, 40))}, not a decimal integer`, 'The checkpoint is corrupt: save it again');
  }
  return Number(text);
}

/** A metadata value nests at most 3 deep (groups: [{ params: [...] }]). */
const MAX_METADATA_DEPTH = 3;

/** Parses one JSON metadata value; its shape is checked by the validators right after. */
function parseJson(key: string, meta: Map<string, string>): unknown {
  const text = requireMeta(key, meta);
  checkJsonDepth(`metadata ${key}`, text, MAX_METADATA_DEPTH);
  try {
    return JSON.parse(text);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`metadata ${key} is not valid JSON`, 'The checkpoint is corrupt: save it again');
  }
}

/** JSON has no Infinity: hyper-parameters (numbers or booleans) carry it as the strings "Infinity"/"-Infinity". */
function encodeHyper(hyper: Record<string, number | boolean>): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const [key, v] of Object.entries(hyper)) out[key] = v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
  return out;
}

function decodeGroupJson(group: unknown): unknown {
  if (typeof group !== 'object' || group === null || Array.isArray(group)) return group;
  const { hyper } = group as { hyper?: unknown };
  if (typeof hyper !== 'object' || hyper === null || Array.isArray(hyper)) return group;
  const decoded: Record<string, unknown> = {};
  for (const key of Object.keys(hyper)) {
    checkName('hyper-parameter name', key);
    const v = (hyper as Record<string, unknown>)[key];
    decoded[key] = v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
  }
  return { ...group, hyper: decoded };
}

interface PlannedParam {
  shape: number[];
  entries: Map<TensorRole, HeaderEntry>;
}

/** Maps `<param>.<role>` tensor names to parameters, checking names, shapes and per-kind tensor sets. */
function planTensors(kind: OptimizerKind, groups: readonly GroupState[], entries: readonly HeaderEntry[]): Map<string, PlannedParam> {
  const plan = new Map<string, PlannedParam>();
  for (const entry of entries) {
    const role = ROLES.find((r) => entry.name.endsWith(SUFFIX[r]));
    if (!role) {
      throw new CheckpointError(
        `tensor ${quote(entry.name)} has no known suffix (${ROLES.map((r) => SUFFIX[r]).join(', ')})`,
        'The checkpoint is corrupt or not an optimizer checkpoint',
      );
    }
    const name = checkName('parameter name', entry.name.slice(0, -SUFFIX[role].length));
    const param = plan.get(name) ?? { shape: entry.shape, entries: new Map<TensorRole, HeaderEntry>() };
    if (param.shape.join(',') !== entry.shape.join(',')) {
      throw new CheckpointError(
        `tensor ${quote(entry.name)} has shape [${entry.shape}] but other tensors of ${quote(name)} have [${param.shape}]`,
        'The checkpoint is corrupt: save it again',
      );
    }
    param.entries.set(role, entry);
    plan.set(name, param);
  }
  const roles = new Map([...plan].map(([name, p]) => [name, new Set(p.entries.keys())]));
  checkTensorSets(kind, groups, roles);
  return plan;
}

function checkExpectation(
  expect: CheckpointExpectation,
  kind: OptimizerKind,
  groups: readonly GroupState[],
  plan: ReadonlyMap<string, PlannedParam>,
): void {
  const fix = 'Load it into an optimizer built with the same kind, parameter names, shapes and groups';
  if (expect.kind !== undefined && expect.kind !== kind) {
    throw new CheckpointError(`checkpoint is for ${kind} but the optimizer is ${expect.kind}`, fix);
  }
  if (expect.shapes) {
    for (const name of Object.keys(expect.shapes)) {
      if (!plan.has(name)) throw new CheckpointError(`optimizer parameter ${quote(name)} is missing from the checkpoint`, fix);
    }
    for (const [name, { shape }] of plan) {
      if (!Object.prototype.hasOwnProperty.call(expect.shapes, name)) {
        throw new CheckpointError(`checkpoint parameter ${quote(name)} does not exist in the optimizer`, fix);
      }
      const want = expect.shapes[name];
      if (!Array.isArray(want)) throw new CheckpointError(`expect.shapes[${quote(name)}] is not an array`, 'Pass each shape as number[]');
      if (want.join(',') !== shape.join(',') || want.length !== shape.length) {
        throw new CheckpointError(`parameter ${quote(name)} has shape [${shape}] in the checkpoint but [${want.slice(0, 16)}] in the optimizer`, fix);
      }
    }
  }
  if (expect.groups) {
    const have = JSON.stringify(groups.map((g) => g.params));
    if (have !== JSON.stringify(expect.groups)) {
      throw new CheckpointError(`checkpoint groups ${have.slice(0, 200)} differ from the optimizer's ${JSON.stringify(expect.groups).slice(0, 200)}`, fix);
    }
  }
}
