// Checkpoint bytes round trip: every kind comes back bit-identical, the file is plain safetensors
// that other readers accept (aligned or not), and bad snapshots or mismatched optimizers are
// refused with a CheckpointError that names the problem.

import { describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, exportMeans } from '../src/checkpoint/index.js';
import { parseSafetensors, readF32, writeF32 } from '../src/checkpoint/safetensors.js';
import type { OptimizerKind, OptimizerSnapshot } from '../src/optim/snapshot.js';
import { bits, sampleSnapshot } from './fixtures/sample-snapshots.js';

const KINDS: OptimizerKind[] = ['ivon', 'adamw', 'sgd'];

function expectSameSnapshot(got: OptimizerSnapshot, want: OptimizerSnapshot): void {
  expect(got).toEqual(want);
  for (const name of Object.keys(want.tensors)) {
    for (const role of ['mean', 'hess', 'momentum', 'expAvgSq'] as const) {
      const w = want.tensors[name][role];
      const g = got.tensors[name][role];
      expect(g === undefined).toBe(w === undefined);
      if (w && g) expect(Array.from(bits(g))).toEqual(Array.from(bits(w)));
    }
  }
}

function errorOf(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError, nothing was thrown');
}

/** Re-encodes a checkpoint after editing its header JSON (data section kept). */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const data = bytes.subarray(8 + length);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('checkpoint round trip', () => {
  for (const kind of KINDS) {
    it(`${kind}: decode(encode(s)) is s, bit for bit`, () => {
      const s = sampleSnapshot(kind);
      expectSameSnapshot(decodeCheckpoint(encodeCheckpoint(s)), s);
    });
  }

  it('sgd without momentum buffers is refused: restore() needs them (SGD keeps one even at momentum 0)', () => {
    const s = sampleSnapshot('sgd', 3);
    for (const t of Object.values(s.tensors)) delete t.momentum;
    expect(() => encodeCheckpoint(s)).toThrow(/parameter "layer1\.weight" is missing its momentum tensor/);
  });

  it('keeps special float32 values exactly: -0, subnormals, the largest finite (in a frozen group)', () => {
    const s = sampleSnapshot('ivon');
    s.groups[1].hyper.frozen = true; // a frozen group never updates, so no headroom is needed
    s.tensors['layer2.weight'].mean.set([-0, 1e-45, 3.4028234663852886e38]);
    const back = decodeCheckpoint(encodeCheckpoint(s));
    expect(Array.from(bits(back.tensors['layer2.weight'].mean)).slice(0, 3)).toEqual([0x80000000, 0x00000001, 0x7f7fffff]);
    // The same weight in a trained group would overflow at its first step: saved, but refused on load.
    s.groups[1].hyper.frozen = false;
    expect(() => decodeCheckpoint(encodeCheckpoint(s))).toThrow(/"layer2\.weight"\[2\] of group 1 cannot train: a value of the next two steps would overflow float32/);
  });

  it('carries an infinite clipRadius through JSON as "Infinity"', () => {
    const bytes = encodeCheckpoint(sampleSnapshot('ivon'));
    const groups = JSON.parse(parseSafetensors(bytes).metadata.get('groups') as string);
    expect(groups[0].hyper.clipRadius).toBe('Infinity');
    expect(decodeCheckpoint(bytes).groups[0].hyper.clipRadius).toBe(Infinity);
  });

  it('writes the documented safetensors layout', () => {
    const s = sampleSnapshot('ivon');
    const bytes = encodeCheckpoint(s);
    const view = new DataView(bytes.buffer);
    const headerLength = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header.__metadata__).toMatchObject({ format: 'ivon-edge.checkpoint', format_version: '1', optimizer: 'ivon', step: '17', skipped_steps: '2' });
    expect(JSON.parse(header.__metadata__.rng)).toEqual({ seed: 42, predictDraws: 5 });
    expect(header['layer1.weight.hess']).toEqual({ dtype: 'F32', shape: [3, 2], data_offsets: expect.any(Array) });
    expect(header['scale.mean'].shape).toEqual([]);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names.length).toBe(12);
    const total = names.reduce((a, n) => a + header[n].data_offsets[1] - header[n].data_offsets[0], 0);
    expect(bytes.length).toBe(8 + headerLength + total);
    // The data of layer1.weight.mean is the raw little-endian float32 bytes at its offsets.
    const [begin] = header['layer1.weight.mean'].data_offsets;
    expect(view.getFloat32(8 + headerLength + begin + 4, true)).toBe(s.tensors['layer1.weight'].mean[1]);
  });

  it('reads tensors at unaligned offsets and from an unaligned Uint8Array', () => {
    const s = sampleSnapshot('adamw');
    const unpadded = withHeader(encodeCheckpoint(s), () => {}); // header length no longer a multiple of 8
    expect(new DataView(unpadded.buffer).getUint32(0, true) % 4).not.toBe(0);
    expectSameSnapshot(decodeCheckpoint(unpadded), s);
    const shifted = new Uint8Array(unpadded.length + 3);
    shifted.set(unpadded, 3);
    expectSameSnapshot(decodeCheckpoint(shifted.subarray(3)), s);
  });

  it('the byte-order-independent copy (big-endian hosts) reads and writes the same bytes', () => {
    const bytes = encodeCheckpoint(sampleSnapshot('ivon'));
    const file = parseSafetensors(bytes);
    for (const e of file.entries) {
      const fast = readF32(bytes, file.dataStart, e);
      const portable = readF32(bytes, file.dataStart, e, true);
      expect(Array.from(bits(portable))).toEqual(Array.from(bits(fast)));
      const out = new Uint8Array(fast.length * 4 + 1);
      writeF32(out, new DataView(out.buffer), 1, fast, true);
      expect(out.subarray(1)).toEqual(bytes.subarray(file.dataStart + e.begin, file.dataStart + e.end));
    }
  });

  it('exportMeans writes the weights alone, named by parameter', () => {
    const s = sampleSnapshot('ivon');
    const bytes = exportMeans(s);
    const file = parseSafetensors(bytes);
    expect(file.entries.map((e) => e.name)).toEqual(['layer1.weight', 'layer1.bias', 'scale', 'layer2.weight']);
    for (const e of file.entries) {
      expect(e.shape).toEqual(s.tensors[e.name].shape);
      expect(Array.from(readF32(bytes, file.dataStart, e))).toEqual(Array.from(s.tensors[e.name].mean));
    }
    expect(errorOf(() => decodeCheckpoint(bytes)).message).toMatch(/mean-only export/);
  });
});

describe('encodeCheckpoint refuses snapshots it could not restore', () => {
  const cases: [string, (s: OptimizerSnapshot) => void, RegExp][] = [
    ['NaN in a mean', (s) => (s.tensors.scale.mean[0] = NaN), /"scale\.mean"\[0\] is NaN/],
    ['Infinity in momentum', (s) => (s.tensors['layer1.bias'].momentum![2] = -Infinity), /"layer1\.bias\.momentum"\[2\] is -Infinity/],
    ['hess + weightDecay <= 0', (s) => (s.tensors['layer2.weight'].hess![4] = -0.002), /"layer2\.weight\.hess"\[4\].*in float32, so sigma is undefined/],
    ['a missing hess', (s) => delete s.tensors.scale.hess, /scale.*missing its hess/],
    ['a wrong length', (s) => (s.tensors.scale.mean = new Float32Array(2)), /2 elements but shape \[\] needs 1/],
    ['beta1 = 1', (s) => (s.groups[0].hyper.beta1 = 1), /beta1 must be in \[0, 1\).*got 1/],
    ['ess missing', (s) => delete s.groups[1].hyper.ess, /ess is missing/],
    ['a tensor in no group', (s) => s.groups[1].params.pop(), /layer2\.weight.*belong to no group/],
    ['a fractional step', (s) => (s.step = 1.5), /step is 1\.5/],
    ['a reserved parameter name', (s) => (s.groups[0].params[0] = '__proto__'), /reserved name/],
    ['an unknown kind', (s) => ((s as { kind: string }).kind = 'lion'), /kind "lion"/],
  ];
  for (const [what, edit, message] of cases) {
    it(what, () => {
      const s = sampleSnapshot('ivon');
      edit(s);
      expect(errorOf(() => encodeCheckpoint(s)).message).toMatch(message);
    });
  }
});

describe('decodeCheckpoint with expect (the live optimizer)', () => {
  const s = sampleSnapshot('ivon');
  const bytes = encodeCheckpoint(s);
  const shapes = Object.fromEntries(Object.entries(s.tensors).map(([n, t]) => [n, t.shape]));
  const groups = s.groups.map((g) => g.params);

  it('accepts a matching optimizer', () => {
    expectSameSnapshot(decodeCheckpoint(bytes, { expect: { kind: 'ivon', shapes, groups } }), s);
  });
  it('names a kind mismatch', () => {
    expect(errorOf(() => decodeCheckpoint(bytes, { expect: { kind: 'adamw' } })).message).toMatch(/for ivon but the optimizer is adamw/);
  });
  it('names a missing parameter', () => {
    const more = { ...shapes, extra: [2] };
    expect(errorOf(() => decodeCheckpoint(bytes, { expect: { shapes: more } })).message).toMatch(/"extra" is missing from the checkpoint/);
  });
  it('names a parameter the optimizer lacks', () => {
    const { scale: _dropped, ...fewer } = shapes;
    expect(errorOf(() => decodeCheckpoint(bytes, { expect: { shapes: fewer } })).message).toMatch(/"scale" does not exist in the optimizer/);
  });
  it('names a shape mismatch, even when the element count agrees', () => {
    const transposed = { ...shapes, 'layer1.weight': [2, 3] };
    expect(errorOf(() => decodeCheckpoint(bytes, { expect: { shapes: transposed } })).message).toMatch(/\[3,2\] in the checkpoint but \[2,3\]/);
  });
  it('names a grouping mismatch', () => {
    expect(errorOf(() => decodeCheckpoint(bytes, { expect: { groups: [groups.flat()] } })).message).toMatch(/groups .* differ/);
  });
  it('checks the expectation before reading any tensor data', () => {
    // Corrupt one float to NaN: with a mismatched expectation the mismatch must be reported first.
    const corrupt = bytes.slice();
    corrupt.fill(0xff, corrupt.length - 4);
    expect(errorOf(() => decodeCheckpoint(corrupt)).message).toMatch(/is NaN/);
    expect(errorOf(() => decodeCheckpoint(corrupt, { expect: { kind: 'sgd' } })).message).toMatch(/optimizer is sgd/);
  });
});

describe('decodeCheckpoint names what is wrong with a file', () => {
  const good = encodeCheckpoint(sampleSnapshot('ivon'));
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a short file', () => good.subarray(0, 5), /too short/],
    ['a truncated file', () => good.subarray(0, good.length - 1), /cover|outside/],
    ['a header length past the end', () => { const b = good.slice(); new DataView(b.buffer).setUint32(0, good.length, true); return b; }, /runs past the end/],
    ['a 2^40 header length', () => { const b = good.slice(); new DataView(b.buffer).setUint32(4, 256, true); return b; }, /over the 16777216-byte cap/],
    ['an F16 tensor', () => withHeader(good, (h) => (h['scale.mean'].dtype = 'F16')), /dtype "F16" is not supported \(only F32 is\)/],
    ['an unsupported version', () => withHeader(good, (h) => (h.__metadata__.format_version = '2')), /version "2" is not supported/],
    ['overlapping tensors', () => withHeader(good, (h) => (h['scale.mean'].data_offsets = h['scale.hess'].data_offsets)), /overlaps|gap/],
    ['shape overflow', () => withHeader(good, (h) => (h['scale.mean'].shape = [2 ** 31, 2 ** 31, 2 ** 31])), /too many elements/],
    ['a negative offset', () => withHeader(good, (h) => (h['scale.mean'].data_offsets = [-4, 0])), /non-negative integers/],
    ['a group parameter without tensors', () => withHeader(good, (h) => {
      const groups = JSON.parse(h.__metadata__.groups);
      groups[1].params.push('ghost');
      h.__metadata__.groups = JSON.stringify(groups);
    }), /"ghost" of the groups has no tensors/],
    ['removed tensors leave a gap', () => withHeader(good, (h) => delete h['scale.hess']), /gap of 4 bytes/],
    ['metadata that is not a string', () => withHeader(good, (h) => (h.__metadata__.step = 3)), /__metadata__\."step" is 3, not a string/],
  ];
  for (const [what, make, message] of cases) {
    it(what, () => {
      expect(errorOf(() => decodeCheckpoint(make())).message).toMatch(message);
    });
  }

  it('enforces a configurable total size cap', () => {
    expect(errorOf(() => decodeCheckpoint(good, { maxBytes: 100 })).message).toMatch(/over the 100-byte cap/);
  });
});
