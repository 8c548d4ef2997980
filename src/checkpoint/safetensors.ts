// The safetensors container (https://huggingface.co/docs/safetensors), float32 only: an 8-byte
// little-endian header length, a JSON header { name: { dtype, shape, data_offsets }, __metadata__ },
// then raw little-endian data. The parser trusts nothing: every length, offset and shape is
// checked against the bytes actually present before any tensor is read.

import { CheckpointError, describe, quote } from './errors.js';
import { checkJsonDepth } from './json-depth.js';

export interface F32Tensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** One tensor as the header describes it; begin/end are byte offsets into the data section. */
export interface HeaderEntry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface ParsedSafetensors {
  metadata: Map<string, string>;
  entries: HeaderEntry[];
  /** Byte offset of the data section within the file. */
  dataStart: number;
}

export interface SafetensorsLimits {
  /** Largest JSON header accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
}

/**
 * The default header cap, derived from what a real header needs. One tensor entry,
 * `"<param>.<role>":{"dtype":"F32","shape":[...],"data_offsets":[b,e]},`, is 52 bytes of fixed
 * text + the name + the shape (rank <= 4 with <= 10 digits per dimension: <= 44 bytes) + two
 * offsets of <= 13 digits (26 bytes): <= 250 bytes for a 128-character name. The `groups`
 * metadata repeats every parameter name once (name + 3 bytes, JSON-escaped inside a string) and a
 * <= 256-byte hyper object per group; options and rng are < 512 bytes. IVON stores 3 tensors per
 * parameter, AdamW 3, SGD <= 2. So a model of P parameters needs about
 * P x (3 x 250 + 131) + 256 x groups + 512 bytes: 16,384 parameter tensors (far more than
 * transformer LLMs have) take 14.1 MiB. The cap is 16 MiB; raise maxHeaderBytes for more.
 * A larger header is refused from its 8-byte length, before a byte of it is decoded.
 */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;

export const DEFAULT_LIMITS: SafetensorsLimits = { maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES, maxBytes: 2 ** 32 };

const MAX_RANK = 16;
/** A header nests 3 deep ({ name: { shape: [...] } }); anything deeper is not a safetensors header. */
const MAX_HEADER_DEPTH = 3;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeSafetensors(tensors: readonly F32Tensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const end = offset + t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-aligned
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors) {
    writeF32(out, view, at, t.data);
    at += t.data.length * 4;
  }
  return out;
}

/** Copies floats into the file little-endian; `portable` forces the byte-order-independent path (tests). */
export function writeF32(out: Uint8Array, view: DataView, at: number, data: Float32Array, portable = !HOST_IS_LITTLE_ENDIAN): void {
  if (!portable) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i], true);
}

export function parseSafetensors(bytes: Uint8Array, limits: SafetensorsLimits = DEFAULT_LIMITS): ParsedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError('checkpoint bytes must be a Uint8Array', 'Pass the file contents as a Uint8Array');
  }
  if (bytes.length > limits.maxBytes) {
    throw new CheckpointError(
      `checkpoint is ${bytes.length} bytes, over the ${limits.maxBytes}-byte cap`,
      'Raise maxBytes if this file is trusted and really this large',
    );
  }
  if (bytes.length < 8) {
    throw new CheckpointError(
      `checkpoint is ${bytes.length} bytes, too short to hold the 8-byte header length`,
      'The file is truncated or not a safetensors file: save it again',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > limits.maxHeaderBytes) {
    throw new CheckpointError(
      `header length ${high * 2 ** 32 + low} is over the ${limits.maxHeaderBytes}-byte cap`,
      'The file is corrupt or not a safetensors file; raise maxHeaderBytes only for a trusted file',
    );
  }
  if (low > bytes.length - 8) {
    throw new CheckpointError(
      `header length ${low} runs past the end of the ${bytes.length}-byte file`,
      'The file is truncated: save it again',
    );
  }
  const header = parseHeaderJson(bytes.subarray(8, 8 + low));
  const dataStart = 8 + low;
  const dataLength = bytes.length - dataStart;
  const metadata = readMetadata(header.__metadata__);
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(header)) {
    if (name !== '__metadata__') entries.push(readEntry(name, header[name], dataLength));
  }
  checkCoverage(entries, dataLength);
  return { metadata, entries, dataStart };
}

function parseHeaderJson(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new CheckpointError('header is not valid UTF-8', 'The file is corrupt: save it again');
  }
  if (!text.startsWith('{')) {
    throw new CheckpointError('header does not start with "{"', 'The file is corrupt or not a safetensors file');
  }
  checkJsonDepth('the header', text, MAX_HEADER_DEPTH);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`header is not valid JSON (${quote((e as Error).message)})`, 'The file is corrupt: save it again');
  }
  if (!isPlainObject(value)) {
    throw new CheckpointError('header JSON is not an object', 'The file is corrupt or not a safetensors file');
  }
  return value;
}

function readMetadata(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined) return out;
  if (!isPlainObject(value)) {
    throw new CheckpointError('__metadata__ is not an object of strings', 'The file is corrupt: save it again');
  }
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v !== 'string') {
      throw new CheckpointError(`__metadata__.${quote(key)} is ${describe(v)}, not a string`, 'safetensors metadata holds strings only: save it again');
    }
    out.set(key, v);
  }
  return out;
}

function readEntry(name: string, value: unknown, dataLength: number): HeaderEntry {
  const where = `tensor ${quote(name)}`;
  if (!isPlainObject(value)) {
    throw new CheckpointError(`${where}: header entry is not an object`, 'The file is corrupt: save it again');
  }
  const keys = Object.keys(value).sort();
  if (keys.join(',') !== 'data_offsets,dtype,shape') {
    throw new CheckpointError(
      `${where}: header entry has keys [${keys.slice(0, 8).map(quote).join(',')}${keys.length > 8 ? ',…' : ''}], expected dtype, shape and data_offsets`,
      'The file is corrupt or written by an incompatible tool',
    );
  }
  if (value.dtype !== 'F32') {
    throw new CheckpointError(
      `${where}: dtype ${describe(value.dtype)} is not supported (only F32 is)`,
      'Convert the tensors to float32 before saving (e.g. tensor.float() in PyTorch)',
    );
  }
  const shape = readShape(where, value.shape);
  const count = elementCount(where, shape);
  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw new CheckpointError(`${where}: data_offsets must be two non-negative integers`, 'The file is corrupt: save it again');
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    throw new CheckpointError(
      `${where}: data_offsets [${begin}, ${end}] fall outside the ${dataLength}-byte data section`,
      'The file is truncated or corrupt: save it again',
    );
  }
  if (end - begin !== count * 4) {
    throw new CheckpointError(
      `${where}: shape [${shape}] needs ${count * 4} bytes but data_offsets give ${end - begin}`,
      'The file is corrupt: save it again',
    );
  }
  return { name, shape, begin, end };
}

function readShape(where: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length > MAX_RANK || !value.every(isNonNegativeInteger)) {
    throw new CheckpointError(
      `${where}: shape must be an array of at most ${MAX_RANK} non-negative integers`,
      'The file is corrupt: save it again',
    );
  }
  return [...(value as number[])];
}

function elementCount(where: string, shape: readonly number[]): number {
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER) {
      throw new CheckpointError(`${where}: shape [${shape}] has too many elements`, 'The file is corrupt: save it again');
    }
  }
  return count;
}

/** The tensors must tile the data section exactly: no gaps, no overlaps, nothing left over. */
function checkCoverage(entries: readonly HeaderEntry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor) {
      const what = e.begin < cursor ? 'overlaps the tensor before it' : `leaves a gap of ${e.begin - cursor} bytes before it`;
      throw new CheckpointError(`tensor ${quote(e.name)}: data ${what}`, 'The file is corrupt: save it again');
    }
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    throw new CheckpointError(
      `the tensors cover ${cursor} of the ${dataLength} data bytes`,
      'The file has trailing bytes or is corrupt: save it again',
    );
  }
}

/** Copies one tensor out of the file into a fresh (aligned) Float32Array, whatever the offset. */
/** `portable` forces the byte-order-independent path that big-endian hosts take (tests). */
export function readF32(bytes: Uint8Array, dataStart: number, entry: HeaderEntry, portable = !HOST_IS_LITTLE_ENDIAN): Float32Array {
  const start = dataStart + entry.begin;
  const out = new Float32Array((entry.end - entry.begin) / 4);
  if (!portable) {
    new Uint8Array(out.buffer).set(bytes.subarray(start, dataStart + entry.end));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(start + 4 * i, true);
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
