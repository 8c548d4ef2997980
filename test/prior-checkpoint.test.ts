// Checkpoints with IVON's per-element prior (issue #12): the optional tensors <name>.prior_mean and
// <name>.prior_precision round-trip bit for bit, files without them still load, and the validator
// checks them like the rest of the file — all-or-none over the parameters, both or neither per
// parameter, finite, prior_precision >= 0, hess + prior_precision > 0 in float32.
import { describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../src/checkpoint/index.js';
import { parseSafetensors } from '../src/checkpoint/safetensors.js';
import { createRuntime, IVON } from '../src/index.js';
import type { OptimizerSnapshot } from '../src/optim/snapshot.js';
import { stateBits } from './conformance/prior-suite.js';

async function priorSnapshot(): Promise<OptimizerSnapshot> {
  const rt = await createRuntime({ backend: 'js' });
  const opt = new IVON(rt, {
    groups: [
      { params: { w: [0.5, -0.5, 1, 2], b: [0.1] }, lr: 0.1, ess: 10, weightDecay: 0.01, priorMean: { w: [1, 2, 3, 4] }, priorPrecision: { w: [0.123456, 1, 2, 3] } },
      { params: { f: [7, 8] }, lr: 0.1, ess: 10, frozen: true },
    ],
  });
  await opt.sampledParams((ctx) => {
    ctx.setGrad('w', Float32Array.from([1, -1, 0.5, 2]));
    ctx.setGrad('b', Float32Array.from([0.3]));
  });
  await opt.step();
  const snap = await opt.snapshot();
  opt.dispose();
  return snap;
}

/** A deep copy whose tensors can be edited. */
function copy(s: OptimizerSnapshot): OptimizerSnapshot {
  const tensors = Object.fromEntries(
    Object.entries(s.tensors).map(([name, t]) => [name, Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v instanceof Float32Array ? v.slice() : [...(v as number[])]]))]),
  );
  return { ...s, tensors } as unknown as OptimizerSnapshot;
}

describe('checkpoints with a per-element prior', () => {
  it('round-trip the prior tensors bit for bit, frozen parameters included', async () => {
    const snap = await priorSnapshot();
    expect(Object.keys(snap.tensors.f)).toContain('priorPrecision');
    const bytes = encodeCheckpoint(snap);
    const names = parseSafetensors(bytes).entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['w.prior_mean', 'w.prior_precision', 'b.prior_mean', 'f.prior_precision']));
    expect(stateBits(decodeCheckpoint(bytes))).toEqual(stateBits(snap));
  });

  it('refuses a prior that is partial, malformed or leaves h + δ <= 0', async () => {
    const snap = await priorSnapshot();
    const cases: [string, (s: OptimizerSnapshot) => void, RegExp][] = [
      ['one parameter without', (s) => { delete s.tensors.b.priorMean; delete s.tensors.b.priorPrecision; }, /prior tensors are present for some parameters but not all/],
      ['mean without precision', (s) => delete s.tensors.w.priorPrecision, /only one of prior_mean and prior_precision/],
      ['negative precision', (s) => (s.tensors.w.priorPrecision![1] = -0.5), /prior_precision"\[1\] = -0.5 is negative/],
      ['h + δ <= 0', (s) => { s.tensors.w.hess![2] = -3; s.tensors.w.priorPrecision![2] = 2; }, /ess·\(hess \+ prior_precision\) = -\d/],
      ['NaN prior mean', (s) => (s.tensors.w.priorMean![0] = NaN), /w\.prior_mean"\[0\] is NaN/],
    ];
    for (const [what, edit, message] of cases) {
      const bad = copy(snap);
      edit(bad);
      expect(() => encodeCheckpoint(bad), what).toThrow(CheckpointError);
      expect(() => encodeCheckpoint(bad), what).toThrow(message);
    }
    // The decoder runs the same checks on what a file claims: a negative precision written into the bytes.
    const bytes = encodeCheckpoint(snap);
    const file = parseSafetensors(bytes);
    const entry = file.entries.find((e) => e.name === 'w.prior_precision')!;
    const tampered = bytes.slice();
    new DataView(tampered.buffer).setFloat32(file.dataStart + entry.begin, -1, true);
    expect(() => decodeCheckpoint(tampered)).toThrow(/w\.prior_precision"\[0\] = -1 is negative/);
  });

  it('restore() refuses a partial prior in a snapshot and changes nothing', async () => {
    const snap = await priorSnapshot();
    const rt = await createRuntime({ backend: 'wasm' });
    const opt = new IVON(rt, {
      groups: [
        { params: { w: [0, 0, 0, 0], b: [0] }, lr: 0.1, ess: 10, weightDecay: 0.01 },
        { params: { f: [7, 8] }, lr: 0.1, ess: 10, frozen: true },
      ],
    });
    const before = stateBits(await opt.snapshot());
    const partial = copy(snap);
    delete partial.tensors.b.priorPrecision;
    await expect(opt.restore(partial)).rejects.toThrow(/'b\.priorPrecision' must be a Float32Array of 1 elements/);
    const negative = copy(snap);
    negative.tensors.w.priorPrecision![0] = -1;
    await expect(opt.restore(negative)).rejects.toThrow(/'w\.priorPrecision' has -1 at index 0/);
    // A well-formed prior with a curvature that fails the optimizer's own check (h + δ <= 0).
    const badHess = copy(snap);
    badHess.tensors.w.hess![0] = -5;
    await expect(opt.restore(badHess)).rejects.toThrow(/'w\.hess'.*priorPrecision/);
    expect(stateBits(await opt.snapshot())).toEqual(before);
    expect(opt.perElementPrior).toBe(false);
    await opt.restore(snap);
    expect(stateBits(await opt.snapshot())).toEqual(stateBits(snap));
    opt.dispose();
    await rt.dispose();
  });
});
