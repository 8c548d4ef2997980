// The meaning-level checks of an OptimizerSnapshot, shared by the encoder (a live optimizer's
// snapshot) and the decoder (whatever a file claims): kind, counters, options, RNG position,
// hyper-parameter ranges (IVON.md §1, in float64 and in the float32 the kernels compute in),
// exactly the option and hyper-parameter keys the optimizer's restore() takes (so a key a bit flip
// renamed is a CheckpointError here, never a ConfigError there), which tensors each kind must
// have, and the numbers themselves (finite; h + δ > 0 in float32 for IVON; exp_avg_sq ≥ 0 for
// AdamW). The decoder adds checkTrainable (headroom.ts): no overflow within two steps.

import type { GroupState, OptimizerKind, OptimizerSnapshot, TensorState } from '../optim/snapshot.js';
import { CheckpointError, describe, quote } from './errors.js';
import { ALLOWED_ROLES, FORBIDDEN_KEYS, KINDS, REQUIRED_ROLES, ROLES, SUFFIX, type TensorRole } from './format.js';
import { adamwHeadroom, ivonBoundsOf, ivonHeadroom, sgdHeadroom } from './headroom.js';
import { isPlainObject } from './safetensors.js';
import { MAX_PREDICT_DRAWS, MAX_STEPS } from '../optim/counters.js';
import { GROUP_PARSERS, precision32 } from '../optim/hyper.js';
import { isPositiveNormal32 } from '../optim/validate.js';
import { ConfigError } from '../errors.js';

const MAX_NAME_LENGTH = 4096;
const SEED_LIMIT = 2 ** 53;

/** The numeric hyper-parameters each kind's snapshot holds; their ranges are the optimizers' own rules (src/optim/hyper.ts). */
const HYPER_KEYS: Record<OptimizerKind, readonly string[]> = {
  ivon: ['lr', 'ess', 'hessInit', 'weightDecay', 'beta1', 'beta2', 'clipRadius'],
  adamw: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  sgd: ['lr', 'momentum', 'weightDecay'],
};

const REQUIRED_HYPER: Record<OptimizerKind, readonly string[]> = {
  ivon: ['lr', 'ess', 'hessInit', 'weightDecay', 'beta1', 'beta2'],
  adamw: ['lr'],
  sgd: ['lr'],
};

/** Hyper-parameters that are booleans (all kinds): may be absent. */
const BOOLEAN_HYPER: ReadonlySet<string> = new Set(['frozen']);

type OptionValue = number | boolean | string;
const OPTION_CHECKS: Record<string, [test: (v: OptionValue) => boolean, text: string]> = {
  mcSamples: [(v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1, 'an integer >= 1'],
  hessApprox: [(v) => v === 'price' || v === 'gradsq', "'price' or 'gradsq'"],
  debias: [(v) => typeof v === 'boolean', 'a boolean'],
  rescaleLr: [(v) => typeof v === 'boolean', 'a boolean'],
  seed: [(v) => isSeed(v), 'an integer in [0, 2^53)'],
  nonFinite: [(v) => v === 'error' || v === 'skip', "'error' or 'skip'"],
};

/** The options each kind's snapshot holds, all required (src/optim: SNAPSHOT_GLOBAL_KEYS). */
const OPTION_KEYS: Record<OptimizerKind, readonly string[]> = {
  ivon: ['mcSamples', 'hessApprox', 'debias', 'rescaleLr', 'seed', 'nonFinite'],
  adamw: ['nonFinite'],
  sgd: ['nonFinite'],
};

function bad(problem: string, fix = 'The checkpoint is corrupt or was not written by this library: save it again'): never {
  throw new CheckpointError(problem, fix);
}

export function checkKind(value: unknown): OptimizerKind {
  if (!KINDS.includes(value as OptimizerKind)) bad(`optimizer kind ${describe(value)} is not one of ${KINDS.join(', ')}`);
  return value as OptimizerKind;
}

export function checkCounter(name: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    bad(`${name} is ${describe(value)}, not an integer in [0, ${max}] (the RNG counter's words are 32 bits)`);
  }
  return value;
}

export function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    bad(`${what} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (FORBIDDEN_KEYS.has(value)) bad(`${what} ${quote(value)} is a reserved name`, 'Use another name (this one would reach Object.prototype)');
  return value;
}

function isSeed(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < SEED_LIMIT;
}

export function checkOptions(kind: OptimizerKind, value: unknown): Record<string, OptionValue> {
  if (!isPlainObject(value)) bad('options is not an object');
  const out: Record<string, OptionValue> = {};
  for (const key of Object.keys(value)) {
    checkName('option name', key);
    if (!OPTION_KEYS[kind].includes(key)) bad(`option ${quote(key)} is not one of ${kind}'s (${OPTION_KEYS[kind].join(', ')})`);
    const v = value[key];
    const [test, text] = OPTION_CHECKS[key];
    if (!test(v as OptionValue)) bad(`option ${key} is ${describe(v)}, must be ${text}`);
    out[key] = v as OptionValue;
  }
  for (const key of OPTION_KEYS[kind]) {
    if (!Object.hasOwn(out, key)) bad(`option ${key} is missing (${kind} checkpoints hold ${OPTION_KEYS[kind].join(', ')})`);
  }
  return out;
}

export function checkRng(value: unknown): OptimizerSnapshot['rng'] {
  if (!isPlainObject(value) || Object.keys(value).sort().join(',') !== 'predictDraws,seed') {
    bad('rng must be an object with exactly seed and predictDraws');
  }
  if (!isSeed(value.seed)) bad(`rng.seed is ${describe(value.seed)}, must be an integer in [0, 2^53)`);
  return { seed: value.seed, predictDraws: checkCounter('rng.predictDraws', value.predictDraws, MAX_PREDICT_DRAWS) };
}

export function checkGroups(kind: OptimizerKind, value: unknown): GroupState[] {
  if (!Array.isArray(value) || value.length === 0) bad('groups must be a non-empty array');
  const seen = new Set<string>();
  return value.map((group, g) => {
    if (!isPlainObject(group) || Object.keys(group).sort().join(',') !== 'hyper,params') {
      bad(`group ${g} must be an object with exactly params and hyper`);
    }
    if (!Array.isArray(group.params)) bad(`group ${g}: params must be an array of names`);
    const params = group.params.map((name) => {
      checkName(`group ${g} parameter name`, name);
      if (seen.has(name)) bad(`parameter ${quote(name)} appears twice in the groups`);
      seen.add(name);
      return name as string;
    });
    return { params, hyper: checkHyper(kind, g, group.hyper) };
  });
}

function checkHyper(kind: OptimizerKind, g: number, value: unknown): Record<string, number | boolean> {
  if (!isPlainObject(value)) bad(`group ${g}: hyper must be an object`);
  const out: Record<string, number | boolean> = {};
  for (const key of Object.keys(value)) {
    checkName(`group ${g} hyper-parameter name`, key);
    const v = value[key];
    const numeric = HYPER_KEYS[kind].includes(key);
    if (!numeric && !BOOLEAN_HYPER.has(key)) {
      bad(`group ${g}: ${quote(key)} is not one of ${kind}'s hyper-parameters (${[...HYPER_KEYS[kind], ...BOOLEAN_HYPER].join(', ')})`);
    }
    if (numeric ? typeof v !== 'number' : typeof v !== 'boolean') bad(`group ${g}: hyper-parameter ${key} has the wrong type (${typeof v})`);
    out[key] = v as number | boolean;
  }
  for (const key of REQUIRED_HYPER[kind]) {
    if (!Object.hasOwn(out, key)) bad(`group ${g}: ${kind} hyper-parameter ${key} is missing`);
  }
  const { frozen: _frozen, ...numbers } = out;
  try {
    GROUP_PARSERS[kind](`group ${g}`, numbers);
  } catch (error) {
    if (error instanceof ConfigError) bad(error.message);
    throw error;
  }
  return out;
}

/** Each group parameter has exactly the tensors its kind needs, and nothing belongs to no group. */
export function checkTensorSets(kind: OptimizerKind, groups: readonly GroupState[], roles: ReadonlyMap<string, ReadonlySet<TensorRole>>): void {
  const inGroups = new Set(groups.flatMap((g) => g.params));
  for (const name of roles.keys()) {
    if (!inGroups.has(name)) bad(`tensors for ${quote(name)} belong to no group`);
  }
  let withPrior = 0;
  for (const name of inGroups) {
    const have = roles.get(name);
    if (!have) bad(`parameter ${quote(name)} of the groups has no tensors`);
    for (const role of have) {
      if (!ALLOWED_ROLES[kind].includes(role)) bad(`parameter ${quote(name)} has a ${role} tensor, which ${kind} does not use`);
    }
    for (const role of REQUIRED_ROLES[kind]) {
      if (!have.has(role)) bad(`parameter ${quote(name)} is missing its ${role} tensor (${quote(name + SUFFIX[role])})`);
    }
    if (have.has('priorMean') !== have.has('priorPrecision')) bad(`parameter ${quote(name)} has only one of prior_mean and prior_precision`);
    if (have.has('priorPrecision')) withPrior++;
  }
  if (withPrior !== 0 && withPrior !== inGroups.size) bad('IVON prior tensors are present for some parameters but not all');
}

/**
 * Every number finite; IVON's h + δ > 0 (in float32, as the kernels compute it), δ the group's
 * weightDecay or, with a per-element prior, prior_precision (itself 0 or a positive normal float32);
 * AdamW's v ≥ 0.
 */
export function checkTensorValues(kind: OptimizerKind, groups: readonly GroupState[], tensors: Record<string, TensorState>): void {
  for (const group of groups) {
    const delta = Number(group.hyper.weightDecay ?? 0);
    const ess = Number(group.hyper.ess ?? 1);
    for (const name of group.params) {
      const t = tensors[name];
      for (const role of ROLES) {
        const data = t[role];
        if (!data) continue;
        for (let i = 0; i < data.length; i++) {
          const x = data[i];
          if (x - x !== 0) bad(`${quote(name + SUFFIX[role])}[${i}] is ${x}; every value must be finite`);
        }
      }
      if (kind === 'ivon') checkCurvature(name, t.hess as Float32Array, ess, t.priorPrecision ?? delta);
      if (kind === 'adamw') checkSecondMoment(name, t.expAvgSq as Float32Array);
    }
  }
}

/**
 * ess·(h + δ) must be a positive normal float32 where the kernels compute σ (restore()'s rule), δ
 * the group's weightDecay or each element's prior_precision (itself 0 or a positive normal float32).
 */
function checkCurvature(name: string, hess: Float32Array, ess: number, delta: number | Float32Array): void {
  const perElement = typeof delta !== 'number';
  for (let i = 0; i < hess.length; i++) {
    const d = perElement ? delta[i] : delta;
    if (perElement && !(d === 0 || isPositiveNormal32(d))) {
      bad(`${quote(name + '.prior_precision')}[${i}] = ${d} is negative or not a normal float32; prior precisions are 0 or between 1.2e-38 and 3.4e38`);
    }
    const precision = precision32(ess, hess[i], d);
    if (!isPositiveNormal32(precision)) {
      bad(`${quote(name + '.hess')}[${i}] = ${hess[i]} makes ess·(hess + ${perElement ? 'prior_precision' : 'weightDecay'}) = ${precision} in float32, so sigma is undefined`);
    }
  }
}

function checkSecondMoment(name: string, v: Float32Array): void {
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] >= 0)) bad(`${quote(name + '.exp_avg_sq')}[${i}] = ${v[i]} is negative`);
  }
}

export function checkShape(what: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length > 16 || !value.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    bad(`${what}: shape must be an array of at most 16 non-negative integers`, 'Fix the shape given to the optimizer');
  }
  const count = value.reduce((a: number, d: number) => a * d, 1);
  if (!Number.isSafeInteger(count)) bad(`${what}: shape [${value}] has too many elements`, 'Fix the shape given to the optimizer');
  return value as number[];
}

/** The full check of a snapshot about to be written (or just assembled from a file). */
export function validateSnapshot(s: OptimizerSnapshot): void {
  const fix = 'The snapshot must come from opt.snapshot() of this library';
  if (!isPlainObject(s)) bad('snapshot is not an object', fix);
  const kind = checkKind(s.kind);
  checkCounter('step', s.step, MAX_STEPS);
  checkCounter('skippedSteps', s.skippedSteps, MAX_STEPS - s.step);
  checkOptions(kind, s.options);
  checkRng(s.rng);
  const groups = checkGroups(kind, s.groups);
  if (!isPlainObject(s.tensors)) bad('snapshot.tensors is not an object', fix);
  const roles = new Map<string, Set<TensorRole>>();
  for (const name of Object.keys(s.tensors)) {
    checkName('tensor name', name);
    const t = s.tensors[name] as unknown;
    if (!isPlainObject(t)) bad(`tensors[${quote(name)}] is not an object`, fix);
    const shape = checkShape(`parameter ${quote(name)}`, t.shape);
    const count = shape.reduce((a, d) => a * d, 1);
    const have = new Set<TensorRole>();
    for (const role of ROLES) {
      const data = t[role];
      if (data === undefined) continue;
      if (!(data instanceof Float32Array)) bad(`${quote(name)}.${role} is not a Float32Array`, fix);
      if (data.length !== count) bad(`${quote(name)}.${role} has ${data.length} elements but shape [${shape}] needs ${count}`, fix);
      have.add(role);
    }
    roles.set(name, have);
  }
  checkTensorSets(kind, groups, roles);
  checkTensorValues(kind, groups, s.tensors);
}

/**
 * What only the decoder checks (a live optimizer's own state is always saveable): the file's RNG
 * agrees with its options, and every element has the float32 headroom for two ordinary steps
 * (headroom.ts), so whatever loads, trains. Frozen groups never update and are skipped.
 */
export function checkTrainable(s: OptimizerSnapshot): void {
  if (s.kind === 'ivon' && s.rng.seed !== s.options.seed) bad(`rng.seed ${s.rng.seed} disagrees with option seed ${describe(s.options.seed)}`);
  s.groups.forEach((group, g) => {
    if (group.hyper.frozen === true) return;
    const check = headroomCheck(s, group.hyper as Record<string, number>);
    const tensors = group.params.map((name) => s.tensors[name]);
    // The group's worst corner first: when it passes, every element does (headroom.ts).
    if (check.corner(tensors) === undefined) return;
    group.params.forEach((name, p) => {
      for (let i = 0; i < tensors[p].mean.length; i++) {
        const why = check.element(tensors[p], i);
        if (why) bad(`${quote(name)}[${i}] of group ${g} cannot train: ${why}`, 'The checkpoint is corrupt or its state has diverged; load an earlier one');
      }
    });
  });
}

interface HeadroomCheck {
  corner: (tensors: TensorState[]) => string | undefined;
  element: (t: TensorState, i: number) => string | undefined;
}

function maxAbs(arrays: (Float32Array | undefined)[]): number {
  let max = 0;
  for (const a of arrays) if (a) for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]));
  return max;
}

function headroomCheck(s: OptimizerSnapshot, h: Record<string, number>): HeadroomCheck {
  const wd = h.weightDecay ?? 0;
  const next = [s.step + 1, s.step + 2] as const;
  const scalarsFinite = (what: string, values: number[]) => {
    if (!values.every((v) => Number.isFinite(Math.fround(v)))) bad(`${what} of the next steps is not finite in float32`, 'The hyper-parameters are out of range: lower lr');
  };
  if (s.kind === 'ivon') {
    const invDebias = next.map((k) => (s.options.debias ? 1 / (1 - Math.pow(h.beta1, k)) : 1)) as [number, number];
    const alpha = s.options.rescaleLr ? h.lr * (h.hessInit + wd) : h.lr;
    scalarsFinite('the step size lr·(hessInit + weightDecay) or the debias factor', [alpha, ...invDebias]);
    const scalars = { ess: h.ess, weightDecay: wd, beta1: h.beta1, beta2: h.beta2, clipRadius: h.clipRadius ?? Infinity, hessApprox: s.options.hessApprox as 'price' | 'gradsq', invDebias, alpha };
    return {
      corner: (tensors) => {
        // A per-element prior varies δ and pulls toward μ: no single corner bounds the group.
        if (tensors.some((t) => t.priorPrecision)) return 'per-element prior: check each element';
        let hdMin = Infinity;
        for (const t of tensors) for (let i = 0; i < t.hess!.length; i++) hdMin = Math.min(hdMin, Math.fround(t.hess![i] + Math.fround(wd)));
        const bounds = { mean: maxAbs(tensors.map((t) => t.mean)), hessAbs: maxAbs(tensors.map((t) => t.hess)), hessPlusDecay: hdMin, momentum: maxAbs(tensors.map((t) => t.momentum)) };
        return ivonHeadroom(bounds, scalars);
      },
      element: (t, i) => {
        if (!t.priorPrecision) return ivonHeadroom(ivonBoundsOf(t.mean[i], t.hess![i], t.momentum![i], wd), scalars);
        // δ_j in place of weightDecay; |m| + |μ_j| bounds both θ's mean and the decay's m − μ_j.
        const delta = t.priorPrecision[i];
        const mean = Math.abs(t.mean[i]) + Math.abs(t.priorMean![i]);
        return ivonHeadroom(ivonBoundsOf(mean, t.hess![i], t.momentum![i], delta), { ...scalars, weightDecay: delta });
      },
    };
  }
  if (s.kind === 'adamw') {
    const beta1 = h.beta1 ?? 0.9;
    const beta2 = h.beta2 ?? 0.999;
    const decayFactor = 1 - h.lr * (h.weightDecay ?? 1e-2);
    const scalars = {
      decayFactor: [decayFactor, decayFactor] as [number, number],
      stepSize: next.map((k) => h.lr / (1 - Math.pow(beta1, k))) as [number, number],
      beta1,
      beta2,
      eps: h.eps ?? 1e-8,
      invBiasCorrection2Sqrt: next.map((k) => 1 / Math.sqrt(1 - Math.pow(beta2, k))) as [number, number],
    };
    scalarsFinite('the AdamW step size or bias correction', [...scalars.decayFactor, ...scalars.stepSize, ...scalars.invBiasCorrection2Sqrt]);
    return {
      corner: (tensors) => {
        let vLow = Infinity;
        for (const t of tensors) for (let i = 0; i < t.expAvgSq!.length; i++) vLow = Math.min(vLow, t.expAvgSq![i]);
        const bounds = { param: maxAbs(tensors.map((t) => t.mean)), expAvg: maxAbs(tensors.map((t) => t.momentum)), expAvgSqLow: vLow, expAvgSqHigh: maxAbs(tensors.map((t) => t.expAvgSq)) };
        return adamwHeadroom(bounds, scalars);
      },
      element: (t, i) => {
        const v = t.expAvgSq![i];
        return adamwHeadroom({ param: Math.abs(t.mean[i]), expAvg: Math.abs(t.momentum![i]), expAvgSqLow: v, expAvgSqHigh: v }, scalars);
      },
    };
  }
  const momentum = h.momentum ?? 0;
  return {
    corner: (tensors) => sgdHeadroom(maxAbs(tensors.map((t) => t.mean)), maxAbs(tensors.map((t) => t.momentum)), h.lr, momentum, wd),
    element: (t, i) => sgdHeadroom(Math.abs(t.mean[i]), Math.abs(t.momentum?.[i] ?? 0), h.lr, momentum, wd),
  };
}
