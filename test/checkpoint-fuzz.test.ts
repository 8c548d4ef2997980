// Hostile input: thousands of truncated, bit-flipped, header-mutated and hand-crafted malicious
// checkpoints. Each must either throw a CheckpointError or decode to a snapshot that passes the full
// validation (re-encodes and decodes back identical) — never another error, a crash, a hang or a
// polluted Object.prototype. Seeded, so a failure reproduces.
// The second half mutates REAL checkpoints (optimizers trained and saved with saveState()): bit
// flips, every single-bit flip of the header, truncation, deep nesting, a legal 90 MiB header,
// non-finite and float32-edge values. Every rejection is a CheckpointError with a bounded message;
// every accepted file is loaded into a fresh optimizer of its configuration and trained two
// ordinary steps, and every sampled θ and every state value must stay finite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../src/checkpoint/index.js';
import { createRuntime, type Runtime } from '../src/index.js';
import { MAX_STEPS } from '../src/optim/counters.js';
import { sampleSnapshot, seededRandom } from './fixtures/sample-snapshots.js';
import { allValues, ordinaryStep, trainedCheckpoint, TRAINED_BASES, type TrainedBase } from './fixtures/trained-checkpoints.js';

/** CheckpointError caps its problem at 1000 and its fix at 300 characters (src/checkpoint/errors.ts). */
const MESSAGE_BOUND = 1000 + 2 + 300;

type Outcome = 'rejected' | 'accepted';

function decodeOutcome(bytes: Uint8Array, label: string): Outcome {
  let snapshot;
  try {
    snapshot = decodeCheckpoint(bytes);
  } catch (e) {
    if (e instanceof CheckpointError && e.message.length <= MESSAGE_BOUND) return 'rejected';
    throw new Error(`${label}: threw ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)} instead of a bounded CheckpointError`);
  }
  // Accepted: it must be a snapshot the encoder accepts too, and survive another round trip.
  expect(decodeCheckpoint(encodeCheckpoint(snapshot)), label).toEqual(snapshot);
  return 'accepted';
}

const BASES: Uint8Array[] = [
  encodeCheckpoint(sampleSnapshot('ivon', 11)),
  encodeCheckpoint(sampleSnapshot('adamw', 12)),
  encodeCheckpoint(sampleSnapshot('sgd', 13)),
  encodeCheckpoint(sampleSnapshot('sgd', 14)),
];

function headerOf(bytes: Uint8Array): Record<string, any> {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
}

function dataOf(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true));
}

/** A file from a header given as text (so it can hold what JSON.stringify would never write). */
function fileFromText(headerText: string, data: Uint8Array, lengthOverride?: [number, number]): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, lengthOverride ? lengthOverride[0] : json.length, true);
  view.setUint32(4, lengthOverride ? lengthOverride[1] : 0, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function fileFromHeader(header: unknown, data: Uint8Array): Uint8Array {
  return fileFromText(JSON.stringify(header), data);
}

const deepArray = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
const JUNK: unknown[] = [
  null, true, false, -1, 0, 1, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e308, '', 'F32', 'F16', 'ivon', '1',
  '-1', 'Infinity', 'NaN', '__proto__', 'x'.repeat(5000), [], [0], [-1, 5], [2 ** 31, 2 ** 31], [1, 2, 3], {},
  JSON.parse('{"__proto__":{"polluted":1}}'), JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
  deepArray(2000), { params: [], hyper: {} }, { seed: 1, predictDraws: 1 },
];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

/** Replaces a random spot inside a JSON value (descending into objects/arrays) with junk. */
function mutateValue(random: () => number, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && random() < 0.7) {
    const keys = Object.keys(value);
    if (keys.length > 0) {
      const copy: any = Array.isArray(value) ? [...value] : { ...value };
      const key = random() < 0.1 ? pick(random, ['__proto__', 'toString', 'valueOf', 'hasOwnProperty']) : pick(random, keys);
      if (random() < 0.1) delete copy[key];
      else Object.defineProperty(copy, key, { value: mutateValue(random, copy[key]), enumerable: true, writable: true, configurable: true });
      return copy;
    }
  }
  if (typeof value === 'number' && random() < 0.5) return value + pick(random, [-4, -1, 1, 4, 0.5]);
  return pick(random, JUNK);
}

function mutateHeader(random: () => number, base: Uint8Array): Uint8Array {
  const header = headerOf(base);
  const keys = Object.keys(header);
  const key = pick(random, keys);
  const roll = random();
  if (roll < 0.1) {
    // Rename a tensor (or the metadata) to something hostile.
    const entry = header[key];
    delete header[key];
    const name = pick(random, ['__proto__', '__proto__.mean', 'constructor.hess', 'toString.mean', 'valueOf', 'x.unknown', keys[1], '', key + '.mean']);
    Object.defineProperty(header, name, { value: entry, enumerable: true, writable: true, configurable: true });
  } else if (key === '__metadata__' && roll < 0.7) {
    // Mutate inside one metadata value, parsing it first when it holds JSON.
    const metaKey = pick(random, Object.keys(header.__metadata__));
    const text: string = header.__metadata__[metaKey];
    let next: unknown;
    try {
      next = JSON.stringify(mutateValue(random, JSON.parse(text)));
    } catch {
      next = random() < 0.5 ? String(pick(random, JUNK)) : pick(random, JUNK);
    }
    header.__metadata__[metaKey] = next;
  } else {
    header[key] = mutateValue(random, header[key]);
  }
  return fileFromHeader(header, dataOf(base));
}

describe('checkpoint fuzz', () => {
  afterAll(() => {
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects every truncation of every base file', () => {
    let cases = 0;
    for (const [b, base] of BASES.entries()) {
      expect(decodeOutcome(base, `base ${b}`)).toBe('accepted');
      for (let length = 0; length < base.length; length++) {
        expect(decodeOutcome(base.subarray(0, length), `base ${b} truncated to ${length}`)).toBe('rejected');
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(2000);
  }, 30_000);

  it('survives 4000 random bit flips (rejected, or decoded to a valid snapshot)', () => {
    const random = seededRandom(2024);
    const seen = { rejected: 0, accepted: 0 };
    for (let i = 0; i < 4000; i++) {
      const bytes = pick(random, BASES).slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      seen[decodeOutcome(bytes, `bit flip case ${i}`)]++;
    }
    // Flips in the JSON header are almost always fatal; many flips in tensor data are still valid floats.
    expect(seen.rejected).toBeGreaterThan(1000);
    expect(seen.accepted).toBeGreaterThan(100);
  }, 30_000);

  it('rejects every bit flip of the 8-byte header length', () => {
    for (const [b, base] of BASES.entries()) {
      for (let bit = 0; bit < 64; bit++) {
        const bytes = base.slice();
        bytes[bit >> 3] ^= 1 << (bit & 7);
        expect(decodeOutcome(bytes, `base ${b} length bit ${bit}`)).toBe('rejected');
      }
    }
  });

  it('survives 3000 header mutations (junk values, hostile names, nested junk)', () => {
    const random = seededRandom(7);
    const seen = { rejected: 0, accepted: 0 };
    for (let i = 0; i < 3000; i++) seen[decodeOutcome(mutateHeader(random, pick(random, BASES)), `header mutation ${i}`)]++;
    expect(seen.rejected).toBeGreaterThan(2000);
  }, 30_000);

  describe('hand-crafted malicious files are all rejected', () => {
    const base = BASES[0];
    const data = dataOf(base);
    const edit = (fn: (h: Record<string, any>) => void) => {
      const h = headerOf(base);
      fn(h);
      return fileFromHeader(h, data);
    };
    const editMeta = (key: string, fn: (v: any) => unknown) =>
      edit((h) => (h.__metadata__[key] = JSON.stringify(fn(JSON.parse(h.__metadata__[key])))));
    /** Renames a parameter in the groups and in its tensor names, keeping everything else valid. */
    const renameParam = (from: string, to: string) =>
      edit((h) => {
        const groups = JSON.parse(h.__metadata__.groups);
        for (const g of groups) g.params = g.params.map((p: string) => (p === from ? to : p));
        h.__metadata__.groups = JSON.stringify(groups);
        for (const role of ['mean', 'hess', 'momentum']) {
          Object.defineProperty(h, `${to}.${role}`, { value: h[`${from}.${role}`], enumerable: true, writable: true, configurable: true });
          delete h[`${from}.${role}`];
        }
      });
    const firstHess = () => headerOf(base)['layer1.weight.hess'].data_offsets[0] as number;
    const withFloat = (offset: number, value: number) => {
      const bytes = base.slice();
      new DataView(bytes.buffer).setFloat32(bytes.length - data.length + offset, value, true);
      return bytes;
    };
    const malicious: [string, () => Uint8Array, RegExp][] = [
      ['header length 2^64 - 1', () => fileFromText('{}', new Uint8Array(0), [0xffffffff, 0xffffffff]), /over the 16777216-byte cap/],
      ['header length 2^32 + 2', () => fileFromText('{}', new Uint8Array(0), [2, 1]), /header length 4294967298 is over/],
      ['header length just over the cap on a tiny file', () => fileFromText('{}', new Uint8Array(0), [16 * 1024 * 1024 + 1, 0]), /header length 16777217 is over/],
      ['header length 0', () => fileFromText('', new Uint8Array(0)), /does not start with "\{"/],
      ['an empty JSON object', () => fileFromText('{}', new Uint8Array(0)), /metadata format is undefined/],
      ['a JSON array header', () => fileFromText('[]', new Uint8Array(0)), /does not start with "\{"/],
      ['a header with a byte-order mark', () => fileFromText('\ufeff{}', new Uint8Array(0)), /metadata format is undefined/],
      ['invalid UTF-8', () => { const b = fileFromText('{"\u00e9":1}', new Uint8Array(0)); b[10] = 0xff; return b; }, /not valid UTF-8/],
      ['1e6-deep nested arrays', () => fileFromText(`{"a":${'['.repeat(1e6)}${']'.repeat(1e6)}}`, new Uint8Array(0)), /the header nests arrays\/objects more than 3 deep/],
      ['1e6-deep unclosed nesting', () => fileFromText(`{"a":${'{"a":'.repeat(1e6)}`, new Uint8Array(0)), /the header nests arrays\/objects more than 3 deep/],
      ['negative offsets', () => edit((h) => (h['scale.mean'].data_offsets = [-4, 0])), /data_offsets must be two non-negative integers/],
      ['end before begin', () => edit((h) => (h['scale.mean'].data_offsets = [8, 4])), /data_offsets \[8, 4\] fall outside/],
      ['fractional offsets', () => edit((h) => (h['scale.mean'].data_offsets = [0.5, 4.5])), /data_offsets must be two non-negative integers/],
      ['string offsets', () => edit((h) => (h['scale.mean'].data_offsets = ['0', '4'])), /data_offsets must be two non-negative integers/],
      ['offsets past the end', () => edit((h) => (h['scale.mean'].data_offsets = [2 ** 60, 2 ** 60 + 4])), /data_offsets must be two non-negative integers/],
      ['overlapping tensors', () => edit((h) => (h['scale.hess'].data_offsets = h['scale.mean'].data_offsets)), /"scale.hess": data overlaps/],
      ['shape [2^31, 2^31]', () => edit((h) => (h['scale.mean'].shape = [2 ** 31, 2 ** 31])), /has too many elements/],
      ['shape [2^53]', () => edit((h) => (h['scale.mean'].shape = [2 ** 53])), /shape must be an array of at most 16 non-negative integers/],
      ['a negative dimension', () => edit((h) => (h['scale.mean'].shape = [-1])), /shape must be an array/],
      ['a fractional dimension', () => edit((h) => (h['scale.mean'].shape = [1.5])), /shape must be an array/],
      ['a 17-dimensional shape', () => edit((h) => (h['scale.mean'].shape = new Array(17).fill(1))), /at most 16/],
      ['a shape disagreeing with the other tensors', () => edit((h) => (h['scale.hess'].shape = [1, 1])), /"scale.hess" has shape \[1,1\] but other tensors of "scale" have \[\]/],
      ['dtype F64', () => edit((h) => (h['scale.mean'].dtype = 'F64')), /dtype "F64" is not supported \(only F32 is\)/],
      ['dtype BF16', () => edit((h) => (h['scale.mean'].dtype = 'BF16')), /dtype "BF16" is not supported/],
      ['a numeric dtype', () => edit((h) => (h['scale.mean'].dtype = 0)), /dtype 0 is not supported/],
      ['an extra entry field', () => edit((h) => (h['scale.mean'].extra = 1)), /keys \["data_offsets","dtype","extra","shape"\]/],
      ['NaN in data', () => withFloat(0, NaN), /"layer1\.weight\.mean"\[0\] is NaN/],
      ['Infinity in data', () => withFloat(data.length - 4, Infinity), /momentum"\[5\] is Infinity/],
      ['hess = -weightDecay exactly', () => withFloat(firstHess(), -1e-3), /"layer1\.weight\.hess"\[0\] = .* makes ess·\(hess \+ weightDecay\) = .* in float32, so sigma is undefined/],
      ['trailing bytes after the data', () => { const b = new Uint8Array(base.length + 4); b.set(base); return b; }, /cover 192 of the 196 data bytes/],
      ['a "__proto__.mean" tensor', () => edit((h) => (h['__proto__.mean'] = h['scale.mean'])), /overlaps/],
      ['a "__proto__" tensor entry', () => fileFromText(`{"__proto__":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, new Uint8Array(4)), /metadata format is undefined/],
      ['a "__proto__" group hyper-parameter', () => editMeta('groups', (g) => { g[0].hyper = JSON.parse('{"__proto__":{"polluted":1},"lr":0.1}'); return g; }), /metadata groups nests arrays\/objects more than 3 deep/],
      ['a "__proto__" option', () => editMeta('options', () => JSON.parse('{"__proto__":{"polluted":1}}')), /"__proto__" is a reserved name/],
      ['a "__proto__" key in a group', () => editMeta('groups', (g) => { g[0] = JSON.parse('{"__proto__":{"polluted":1}}'); return g; }), /exactly params and hyper/],
      ['a "__proto__" metadata key', () => fileFromText(`{"__metadata__":{"__proto__":"x"}}`, new Uint8Array(0)), /metadata format is undefined/],
      ['a tensor with an unknown suffix', () => edit((h) => { h['scale.velocity'] = h['scale.mean']; delete h['scale.mean']; }), /"scale.velocity" has no known suffix/],
      ['an adamw tensor in an ivon file', () => edit((h) => { h['scale.exp_avg_sq'] = h['scale.mean']; delete h['scale.mean']; }), /expAvgSq tensor, which ivon does not use/],
      ['a parameter in two groups', () => editMeta('groups', (g) => { g[1].params.push('scale'); return g; }), /"scale" appears twice/],
      ['groups = null', () => editMeta('groups', () => null), /groups must be a non-empty array/],
      ['groups = []', () => editMeta('groups', () => []), /groups must be a non-empty array/],
      ['params as a string', () => editMeta('groups', (g) => { g[0].params = 'scale'; return g; }), /params must be an array/],
      ['hyper "NaN"', () => editMeta('groups', (g) => { g[0].hyper.lr = 'NaN'; return g; }), /lr has the wrong type/],
      ['ess = 0', () => editMeta('groups', (g) => { g[0].hyper.ess = 0; return g; }), /ess must be a finite number > 0, got 0/],
      ['beta1 = 1', () => editMeta('groups', (g) => { g[0].hyper.beta1 = 1; return g; }), /beta1 must be in \[0, 1\).*got 1/],
      ['rng seed -1', () => editMeta('rng', (r) => ({ ...r, seed: -1 })), /rng\.seed is -1/],
      ['rng seed 2^53', () => editMeta('rng', (r) => ({ ...r, seed: 2 ** 53 })), /rng\.seed is 9007199254740992/],
      ['an extra rng field', () => editMeta('rng', (r) => ({ ...r, stream: 1 })), /exactly seed and predictDraws/],
      ['mcSamples 0', () => editMeta('options', (o) => ({ ...o, mcSamples: 0 })), /mcSamples is 0/],
      ['hessApprox "exact"', () => editMeta('options', (o) => ({ ...o, hessApprox: 'exact' })), /hessApprox is "exact"/],
      ['step "1e3"', () => edit((h) => (h.__metadata__.step = '1e3')), /step is "1e3", not a decimal integer/],
      ['step "-1"', () => edit((h) => (h.__metadata__.step = '-1')), /step is "-1"/],
      ['step beyond 2^53', () => edit((h) => (h.__metadata__.step = '99999999999999999999')), /step is "99999999999999999999"/],
      ['step " 1"', () => edit((h) => (h.__metadata__.step = ' 1')), /step is " 1"/],
      ['format_version "1.0"', () => edit((h) => (h.__metadata__.format_version = '1.0')), /version "1\.0" is not supported/],
      ['no format name', () => edit((h) => delete h.__metadata__.format), /metadata format is undefined/],
      ['optimizer "IVON"', () => edit((h) => (h.__metadata__.optimizer = 'IVON')), /kind "IVON" is not one of/],
      ['a parameter named "__proto__"', () => renameParam('scale', '__proto__'), /"__proto__" is a reserved name/],
      ['a parameter named "constructor"', () => renameParam('scale', 'constructor'), /"constructor" is a reserved name/],
      ['an empty parameter name', () => renameParam('scale', ''), /must be a non-empty string/],
      ['a "toString" hyper-parameter (an Object.prototype name)', () => editMeta('groups', (g) => { g[0].hyper.toString = 0.1; return g; }), /"toString" is not one of ivon's hyper-parameters/],
      ['a "hasOwnProperty" option', () => editMeta('options', (o) => ({ ...o, hasOwnProperty: true })), /option "hasOwnProperty" is not one of ivon's/],
      ['options not JSON', () => edit((h) => (h.__metadata__.options = '{mcSamples: 1}')), /options is not valid JSON/],
    ];
    for (const [what, make, message] of malicious) {
      it(what, () => {
        const bytes = make();
        expect(decodeOutcome(bytes, what)).toBe('rejected');
        expect(() => decodeCheckpoint(bytes)).toThrow(message);
      });
    }
  });
});

describe('checkpoint fuzz on real checkpoints: whatever loads, trains', () => {
  let rt: Runtime;
  const bases: { base: TrainedBase; bytes: Uint8Array }[] = [];
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
    for (const base of TRAINED_BASES) bases.push({ base, bytes: await trainedCheckpoint(rt, base) });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  /** Decodes against the base's optimizer; an accepted file must load and train two ordinary steps finitely. */
  async function loadAndTrain(base: TrainedBase, bytes: Uint8Array, label: string): Promise<Outcome> {
    const opt = base.make(rt);
    try {
      try {
        decodeCheckpoint(bytes, { expect: opt.checkpointExpectation() });
      } catch (e) {
        if (e instanceof CheckpointError && e.message.length <= MESSAGE_BOUND) return 'rejected';
        throw new Error(`${label}: threw ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)} instead of a bounded CheckpointError`);
      }
      // The decoder is as strict as restore(): what it accepts, restore() takes without complaint.
      await opt.loadState(bytes).catch((e: Error) => {
        throw new Error(`${label}: decoded, but loadState threw ${e.name}: ${e.message.slice(0, 300)}`);
      });
      const random = seededRandom(bytes.length);
      for (let step = 1; step <= 2; step++) {
        // An optimizer whose RNG step counter is used up loads (to predict) but refuses step(), clearly and changing nothing.
        if (opt.stepCount + (await opt.snapshot()).skippedSteps >= MAX_STEPS) {
          await expect(ordinaryStep(opt, random)).rejects.toThrow(/step counter is at its limit/);
          return 'accepted';
        }
        const thetas = await ordinaryStep(opt, random);
        for (const theta of thetas) expect(theta.every(Number.isFinite), `${label}: sampled θ of step ${step} is finite`).toBe(true);
        for (const values of allValues(await opt.snapshot())) expect(values.every(Number.isFinite), `${label}: state after step ${step} is finite`).toBe(true);
      }
      return 'accepted';
    } finally {
      opt.dispose();
    }
  }

  /** Cheap first pass for large sweeps: only files the decoder accepts are loaded and trained. */
  async function sweep(base: TrainedBase, files: Iterable<[Uint8Array, string]>): Promise<{ rejected: number; accepted: number }> {
    const expectation = base.make(rt);
    const expect_ = expectation.checkpointExpectation();
    expectation.dispose();
    const seen = { rejected: 0, accepted: 0 };
    for (const [bytes, label] of files) {
      try {
        decodeCheckpoint(bytes, { expect: expect_ });
      } catch (e) {
        if (e instanceof CheckpointError && e.message.length <= MESSAGE_BOUND) {
          seen.rejected++;
          continue;
        }
        throw new Error(`${label}: threw ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)} instead of a bounded CheckpointError`);
      }
      seen[await loadAndTrain(base, bytes, label)]++;
    }
    return seen;
  }

  it('the bases themselves load and train', async () => {
    for (const { base, bytes } of bases) expect(await loadAndTrain(base, bytes, base.label)).toBe('accepted');
  });

  it('a bit flip in an option or hyper-parameter key is a CheckpointError (restore would have thrown ConfigError)', async () => {
    const { base, bytes } = bases[0];
    const headerEnd = 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const header = new TextDecoder().decode(bytes.subarray(0, headerEnd)); // ASCII: one byte per character
    const flipped = (from: string, to: string) => {
      const copy = bytes.slice();
      copy.set(new TextEncoder().encode(to), header.indexOf(from));
      return copy;
    };
    const cases: [Uint8Array, RegExp][] = [
      [flipped('debias', 'debiar'), /option "debiar" is not one of ivon's/],
      [flipped('\\"ess\\"', '\\"esq\\"'), /group 0: "esq" is not one of ivon's hyper-parameters/],
      [flipped('nonFinite', 'nonFinitd'), /option "nonFinitd" is not one of ivon's/],
    ];
    for (const [file, message] of cases) {
      expect(file.length).toBe(bytes.length);
      expect(await loadAndTrain(base, file, String(message))).toBe('rejected');
      const opt = base.make(rt);
      await expect(opt.loadState(file)).rejects.toThrow(message);
      await expect(opt.loadState(file)).rejects.toBeInstanceOf(CheckpointError);
      opt.dispose();
    }
  });

  it('every single-bit flip of every header byte (bit flips in key names included)', async () => {
    const total = { rejected: 0, accepted: 0 };
    for (const { base, bytes } of bases) {
      const headerEnd = 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
      function* flips(): Generator<[Uint8Array, string]> {
        for (let at = 8; at < headerEnd; at++) {
          for (let bit = 0; bit < 8; bit++) {
            const copy = bytes.slice();
            copy[at] ^= 1 << bit;
            yield [copy, `${base.label}: header byte ${at} bit ${bit}`];
          }
        }
      }
      const seen = await sweep(base, flips());
      total.rejected += seen.rejected;
      total.accepted += seen.accepted;
    }
    expect(total.rejected).toBeGreaterThan(10_000);
    expect(total.accepted).toBeGreaterThan(0); // e.g. flips inside a float's digits
  }, 120_000);

  it('1600 random multi-bit flips anywhere, and 400 truncations', async () => {
    const random = seededRandom(4711);
    const total = { rejected: 0, accepted: 0 };
    for (const { base, bytes } of bases) {
      function* mutants(): Generator<[Uint8Array, string]> {
        for (let i = 0; i < 400; i++) {
          const copy = bytes.slice();
          const flips = 1 + Math.floor(random() * 4);
          for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
          yield [copy, `${base.label}: random flips ${i}`];
        }
        for (let i = 0; i < 100; i++) {
          const length = Math.floor(random() * bytes.length);
          yield [bytes.subarray(0, length), `${base.label}: truncated to ${length}`];
        }
      }
      const seen = await sweep(base, mutants());
      total.rejected += seen.rejected;
      total.accepted += seen.accepted;
    }
    expect(total.accepted).toBeGreaterThan(50); // flips in tensor data
  }, 120_000);

  it('non-finite and float32-edge values in tensors, hyper-parameters and counters', async () => {
    const EDGE = [NaN, Infinity, -Infinity, 3.4028234663852886e38, -3.4028234663852886e38, 1e38, 1e30, -1e30, 1e20, 1e15, 1e10, 65504, 1,
      -1, 1e-10, 1.1754943508222875e-38, 1e-40, 1.401298464324817e-45, -1.401298464324817e-45, 0, -0];
    const HYPER_EDGE = [...EDGE.filter((v) => Number.isFinite(v)), 1e39, 1e300, 1e-46, 1e-300, 1 - 1e-17, 1 - 2 ** -24, 1 - 2 ** -53, 0.9999999, 2, 'Infinity'];
    const random = seededRandom(1234);
    const total = { rejected: 0, accepted: 0 };
    for (const { base, bytes } of bases) {
      const header = headerOf(bytes);
      const data = dataOf(bytes);
      const tensorNames = Object.keys(header).filter((k) => k !== '__metadata__');
      function* mutants(): Generator<[Uint8Array, string]> {
        for (let i = 0; i < 300; i++) {
          const roll = random();
          if (roll < 0.5) {
            // One or a few elements of one tensor set to an edge value (hess near -weightDecay included).
            const copy = bytes.slice();
            const view = new DataView(copy.buffer);
            const name = pick(random, tensorNames);
            const [begin, end] = header[name].data_offsets as [number, number];
            const count = (end - begin) / 4;
            const dataStart = copy.length - data.length;
            const edits = 1 + Math.floor(random() * 3);
            const what: string[] = [];
            for (let e = 0; e < edits; e++) {
              const at = dataStart + begin + 4 * Math.floor(random() * count);
              const value = name.endsWith('.hess') && random() < 0.3 ? -pick(random, [1e-4, 1e-2, 0.0099999, 0.01000001, 9.99999e-5]) : pick(random, EDGE);
              view.setFloat32(at, value, true);
              what.push(`${name}@${at}=${value}`);
            }
            yield [copy, `${base.label}: ${what.join(', ')}`];
          } else if (roll < 0.9) {
            const h = headerOf(bytes);
            const groups = JSON.parse(h.__metadata__.groups);
            const g = Math.floor(random() * groups.length);
            const key = pick(random, Object.keys(groups[g].hyper).filter((k) => k !== 'frozen'));
            const value = pick(random, HYPER_EDGE);
            groups[g].hyper[key] = value;
            h.__metadata__.groups = JSON.stringify(groups);
            yield [fileFromHeader(h, data), `${base.label}: group ${g} ${key} = ${value}`];
          } else {
            const h = headerOf(bytes);
            const step = pick(random, ['9007199254740991', '4294967296', '4294967295', '4294967294', '4294967293', '4294967292', '0', '1']);
            h.__metadata__.step = step;
            const rng = JSON.parse(h.__metadata__.rng);
            rng.predictDraws = pick(random, [0, 5, 2 ** 32, 2 ** 32 + 1]);
            h.__metadata__.rng = JSON.stringify(rng);
            yield [fileFromHeader(h, data), `${base.label}: step ${step}, predictDraws ${rng.predictDraws}`];
          }
        }
      }
      const seen = await sweep(base, mutants());
      total.rejected += seen.rejected;
      total.accepted += seen.accepted;
    }
    expect(total.rejected).toBeGreaterThan(300);
    expect(total.accepted).toBeGreaterThan(200);
  }, 120_000);

  it('deep nesting anywhere in the header or its JSON metadata is a CheckpointError, never a stack overflow', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    for (const { base, bytes } of bases) {
      const data = dataOf(bytes);
      const cases: [string, Uint8Array][] = [];
      for (const key of ['options', 'groups', 'rng']) {
        const h = headerOf(bytes);
        h.__metadata__[key] = `{"nonFinite":${deep(5000)}}`;
        cases.push([`${key} nested 5000 deep`, fileFromHeader(h, data)]);
      }
      const h = headerOf(bytes);
      const groups = h.__metadata__.groups as string;
      h.__metadata__.groups = groups.replace(/"lr":[^,}]+/, `"lr":${deep(100_000)}`);
      cases.push(['a hyper-parameter nested 100000 deep', fileFromHeader(h, data)]);
      const text = JSON.stringify(headerOf(bytes));
      cases.push(['a tensor entry nested 100000 deep', fileFromText(`{"x.mean":${deep(100_000)},${text.slice(1)}`, data)]);
      for (const [what, file] of cases) {
        expect(await loadAndTrain(base, file, `${base.label}: ${what}`)).toBe('rejected');
        expect(() => decodeCheckpoint(file)).toThrow(/nests arrays\/objects more than 3 deep/);
      }
    }
  });

  it('a legal 90 MiB header is refused from its length alone, fast; an 8 MB hostile string gives a short message', async () => {
    const { bytes } = bases[0];
    const h = headerOf(bytes);
    h.__metadata__.padding = 'x'.repeat(90 * 2 ** 20);
    const huge = fileFromHeader(h, dataOf(bytes));
    const started = performance.now();
    expect(() => decodeCheckpoint(huge)).toThrow(/header length 9437\d{4} is over the 16777216-byte cap/);
    expect(performance.now() - started).toBeLessThan(50);
    const hostile = headerOf(bytes);
    hostile.__metadata__.optimizer = 'y'.repeat(8e6);
    const error = (() => {
      try {
        decodeCheckpoint(fileFromHeader(hostile, dataOf(bytes)));
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(/^optimizer kind "y{200}"… \(8000000 characters\) is not one of ivon, adamw, sgd/);
    expect(error.message.length).toBeLessThan(400);
  });
});
