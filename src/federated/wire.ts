// The bytes of one federated message: a posterior in the project's safetensors container (the same
// parser and limits as checkpoints, src/checkpoint/safetensors.ts), with string metadata saying
// which run, round, sender and message kind it is. The decoder trusts nothing: the container is
// validated by parseSafetensors, then the metadata, then every tensor against the expected model
// (names, shapes) and the numbers themselves (finite, hess + δ > 0, ess > 0), before anything is
// returned — a hostile or corrupt payload is a FederatedMessageError, never a half-read posterior.
//
// Size: a prior tensor whose elements are all equal (the usual scalar δ, a zero prior mean) travels
// as one element and is broadcast on decode, so a message is ~8 bytes per parameter (mean + hess).
// That keeps a 16M-parameter model's message (128 MiB) under MQTT's 256 MiB packet limit.

import { encodeSafetensors, parseSafetensors, readF32, type F32Tensor, type HeaderEntry } from '../checkpoint/safetensors.js';
import { CheckpointError } from '../checkpoint/errors.js';
import type { ParamPosterior, Posterior } from '../posterior/types.js';
import { checkParam } from '../posterior/product.js';

export const WIRE_FORMAT = 'ivon-edge.federated';
export const WIRE_VERSION = '1';

/** 'global': the coordinator's posterior that opens a round; 'update': a client's answer to a round. */
export type MessageKind = 'global' | 'update';

export interface MessageHeader {
  kind: MessageKind;
  /** The run this message belongs to (a replay from another run is refused). */
  session: string;
  /** Round number r ≥ 0: a global opens round r; an update answers round r. */
  round: number;
  /** Who sent it: the coordinator's or the client's id (checked against the topic it came on). */
  sender: string;
  /** A global with final = true closes the run: clients stop after it. */
  final: boolean;
}

export interface Message extends MessageHeader {
  posterior: Posterior;
}

/** What the receiver expects; any difference rejects the message before its tensors are read. */
export interface WireExpectation {
  kind?: MessageKind;
  session?: string;
  /** Parameter names and shapes of the model. */
  shapes?: Readonly<Record<string, readonly number[]>>;
  /** Largest message accepted, in bytes (default 512 MiB). */
  maxBytes?: number;
}

/** A message that must not be used (malformed, hostile, for another run, model or round). */
export class FederatedMessageError extends Error {
  override name = 'FederatedMessageError';
}

const SUFFIX = { mean: '.mean', hess: '.hess', priorPrecision: '.prior_precision', priorMean: '.prior_mean' } as const;
type Field = keyof typeof SUFFIX;
const FIELDS = Object.keys(SUFFIX) as Field[];
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/** Client, coordinator and session ids: 1-64 characters of [A-Za-z0-9_.-] (they become MQTT topic levels). */
export function checkId(what: string, id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new FederatedMessageError(`${what} ${JSON.stringify(id)} is not 1-64 characters of A-Z a-z 0-9 _ . -; pick an id of that form (it becomes an MQTT topic level)`);
  }
  return id;
}

export function encodeMessage(message: Message): Uint8Array {
  const { posterior } = message;
  checkHeader(message);
  const names = Object.keys(posterior?.params ?? {}).sort();
  if (names.length === 0) throw new FederatedMessageError('encodeMessage: the posterior has no parameters; pass the model’s posterior');
  const tensors: F32Tensor[] = [];
  const ess: Record<string, number> = {};
  for (const name of names) {
    const p = posterior.params[name];
    checkParam(`encodeMessage '${name}'`, p, p.shape);
    ess[name] = p.ess;
    for (const field of FIELDS) {
      const data = p[field];
      const broadcast = (field === 'priorPrecision' || field === 'priorMean') && allEqual(data);
      tensors.push({ name: name + SUFFIX[field], shape: broadcast ? [1] : p.shape, data: broadcast ? data.subarray(0, 1) : data });
    }
  }
  return encodeSafetensors(tensors, {
    format: WIRE_FORMAT,
    format_version: WIRE_VERSION,
    kind: message.kind,
    session: message.session,
    round: String(message.round),
    sender: message.sender,
    final: String(message.final),
    ess: JSON.stringify(ess),
  });
}

/** Reads only the header (cheap): for routing and for dropping stale rounds before decoding tensors. */
export function decodeHeader(bytes: Uint8Array, expect: WireExpectation = {}): MessageHeader & { entries: HeaderEntry[]; dataStart: number; ess: Record<string, number> } {
  let file;
  try {
    file = parseSafetensors(bytes, { maxBytes: expect.maxBytes ?? DEFAULT_MAX_BYTES, maxHeaderBytes: 1024 * 1024 });
  } catch (e) {
    if (e instanceof CheckpointError) throw new FederatedMessageError(`not a valid message: ${e.message}`);
    throw e;
  }
  const meta = file.metadata;
  if (meta.get('format') !== WIRE_FORMAT) throw new FederatedMessageError(`metadata format is ${JSON.stringify(meta.get('format'))}, not ${JSON.stringify(WIRE_FORMAT)}`);
  if (meta.get('format_version') !== WIRE_VERSION) throw new FederatedMessageError(`format_version ${JSON.stringify(meta.get('format_version'))} is not supported (this build speaks ${WIRE_VERSION})`);
  const kind = meta.get('kind');
  if (kind !== 'global' && kind !== 'update') throw new FederatedMessageError(`kind ${JSON.stringify(kind)} is neither "global" nor "update"`);
  const roundText = meta.get('round') ?? '';
  if (!/^(0|[1-9][0-9]{0,14})$/.test(roundText)) throw new FederatedMessageError(`round ${JSON.stringify(roundText.slice(0, 20))} is not a non-negative integer`);
  const finalText = meta.get('final');
  if (finalText !== 'true' && finalText !== 'false') throw new FederatedMessageError(`final ${JSON.stringify(finalText)} is not "true" or "false"`);
  const header: MessageHeader = {
    kind,
    session: checkId('session', meta.get('session')),
    round: Number(roundText),
    sender: checkId('sender', meta.get('sender')),
    final: finalText === 'true',
  };
  if (expect.kind !== undefined && header.kind !== expect.kind) throw new FederatedMessageError(`a ${header.kind} message arrived where a ${expect.kind} was expected`);
  if (expect.session !== undefined && header.session !== expect.session) throw new FederatedMessageError(`message of session ${header.session}, not this run's ${expect.session} (a replay from another run?)`);
  const ess = readEss(meta.get('ess'));
  return { ...header, entries: file.entries, dataStart: file.dataStart, ess };
}

export function decodeMessage(bytes: Uint8Array, expect: WireExpectation = {}): Message {
  const head = decodeHeader(bytes, expect);
  const byName = new Map(head.entries.map((e) => [e.name, e]));
  const names = Object.keys(head.ess).sort();
  if (expect.shapes) {
    const want = Object.keys(expect.shapes).sort();
    if (want.join('\0') !== names.join('\0')) throw new FederatedMessageError(`message has parameters [${names.join(', ')}] but the model has [${want.join(', ')}]`);
  }
  if (head.entries.length !== names.length * FIELDS.length) throw new FederatedMessageError(`message has ${head.entries.length} tensors; ${names.length} parameters need ${names.length * FIELDS.length}`);
  const params: Record<string, ParamPosterior> = {};
  for (const name of names) {
    const meanEntry = byName.get(name + SUFFIX.mean);
    if (!meanEntry) throw new FederatedMessageError(`tensor ${name}${SUFFIX.mean} is missing`);
    const shape = meanEntry.shape;
    const wanted = expect.shapes?.[name];
    if (wanted && (wanted.length !== shape.length || wanted.some((d, i) => d !== shape[i]))) {
      throw new FederatedMessageError(`'${name}' has shape [${shape.join(', ')}] but the model's is [${wanted.join(', ')}]`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const fields = {} as Record<Field, Float32Array>;
    for (const field of FIELDS) {
      const entry = byName.get(name + SUFFIX[field]);
      if (!entry) throw new FederatedMessageError(`tensor ${name}${SUFFIX[field]} is missing`);
      const broadcastable = field === 'priorPrecision' || field === 'priorMean';
      const sameShape = entry.shape.length === shape.length && entry.shape.every((d, i) => d === shape[i]);
      const isBroadcast = broadcastable && entry.shape.length === 1 && entry.shape[0] === 1;
      if (!sameShape && !isBroadcast) throw new FederatedMessageError(`tensor ${name}${SUFFIX[field]} has shape [${entry.shape.join(', ')}], not [${shape.join(', ')}]`);
      const data = readF32(bytes, head.dataStart, entry);
      fields[field] = sameShape ? data : new Float32Array(count).fill(data[0]);
    }
    const param: ParamPosterior = { shape, ...fields, ess: head.ess[name] };
    try {
      checkParam(`'${name}'`, param, shape);
    } catch (e) {
      throw new FederatedMessageError(`hostile or corrupt numbers: ${(e as Error).message}`);
    }
    params[name] = param;
  }
  const { entries: _e, dataStart: _d, ess: _s, ...header } = head;
  return { ...header, posterior: { params } };
}

function readEss(text: string | undefined): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new FederatedMessageError('metadata ess is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FederatedMessageError('metadata ess is not an object of numbers');
  const out: Record<string, number> = Object.create(null);
  for (const [name, ess] of Object.entries(value)) {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype' || name.length === 0 || name.length > 4096) {
      throw new FederatedMessageError(`parameter name ${JSON.stringify(name.slice(0, 40))} is not allowed`);
    }
    if (typeof ess !== 'number' || !Number.isFinite(ess) || !(ess > 0)) throw new FederatedMessageError(`ess of '${name}' is ${String(ess)}, not a finite number > 0`);
    out[name] = ess;
  }
  if (Object.keys(out).length === 0) throw new FederatedMessageError('message has no parameters');
  return out;
}

function checkHeader(m: MessageHeader): void {
  if (m.kind !== 'global' && m.kind !== 'update') throw new FederatedMessageError(`encodeMessage: kind must be 'global' or 'update', not ${JSON.stringify(m.kind)}`);
  checkId('session', m.session);
  checkId('sender', m.sender);
  if (!Number.isSafeInteger(m.round) || m.round < 0) throw new FederatedMessageError(`encodeMessage: round must be an integer ≥ 0, not ${String(m.round)}`);
  if (typeof m.final !== 'boolean') throw new FederatedMessageError('encodeMessage: final must be a boolean');
}

function allEqual(a: Float32Array): boolean {
  const first = a[0];
  for (let i = 1; i < a.length; i++) if (!Object.is(a[i], first)) return false;
  return true;
}
