// Interop with the PyTorch reference: a file laid out exactly as tools/export_ivon_torch.py writes
// it (safetensors.save_file ordering, Python JSON spelling, metadata in another order) imports to
// the snapshot the mapping in tools/README.md promises: weights -> mean, each group's flat hess and
// momentum sliced in parameter order, hyper-parameters renamed, current_step -> step.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../src/checkpoint/index.js';
import { parseSafetensors } from '../src/checkpoint/safetensors.js';
import type { OptimizerSnapshot, TensorState } from '../src/optim/snapshot.js';
import { buildTorchExportFixture, TORCH_FIXTURE_PATH } from '../tools/make-fixtures.js';
import { TORCH_STATE } from './fixtures/torch-state.js';
import { torchPython } from './fixtures/torch-python.js';

/** The mapping of tools/README.md, written out plainly. */
function expectedSnapshot(): OptimizerSnapshot {
  const tensors: Record<string, TensorState> = {};
  const groups = TORCH_STATE.groups.map((g) => {
    let offset = 0;
    for (const p of g.params) {
      const n = p.weight.length;
      tensors[p.name] = {
        shape: p.shape,
        mean: Float32Array.from(p.weight),
        hess: Float32Array.from(g.hess.slice(offset, offset + n)),
        momentum: Float32Array.from(g.momentum.slice(offset, offset + n)),
      };
      offset += n;
    }
    return {
      params: g.params.map((p) => p.name),
      hyper: { lr: g.lr, ess: g.ess, hessInit: g.hess_init, weightDecay: g.weight_decay, beta1: g.beta1, beta2: g.beta2, clipRadius: g.clip_radius },
    };
  });
  return {
    kind: 'ivon',
    step: TORCH_STATE.current_step,
    skippedSteps: 0,
    options: { mcSamples: 1, hessApprox: 'price', debias: true, rescaleLr: true, seed: 0, nonFinite: 'error' },
    rng: { seed: 0, predictDraws: 0 },
    groups,
    tensors,
  };
}

describe('PyTorch ivon-opt export', () => {
  const bytes = new Uint8Array(readFileSync(TORCH_FIXTURE_PATH));

  it('the committed fixture is what tools/make-fixtures.ts writes', () => {
    expect(bytes).toEqual(buildTorchExportFixture());
  });

  it('imports to the expected snapshot', () => {
    expect(decodeCheckpoint(bytes)).toEqual(expectedSnapshot());
  });

  it('slices the flat group vectors in parameter order (spot values)', () => {
    const s = decodeCheckpoint(bytes);
    expect(Array.from(s.tensors['fc1.bias'].hess!)).toEqual([1.25, 1.375, 1.5]);
    expect(Array.from(s.tensors['fc1.weight'].momentum!)).toEqual([-0.0625, -0.046875, -0.03125, -0.015625, 0, 0.015625]);
    expect(s.tensors['fc2.weight'].shape).toEqual([1, 3]);
    expect(Array.from(s.tensors['fc2.weight'].hess!)).toEqual([-0.001953125, 0.25, 3]);
    expect(Array.from(s.tensors['fc2.bias'].momentum!)).toEqual([0.0009765625]);
    expect(s.groups.map((g) => g.params)).toEqual([['fc1.weight', 'fc1.bias'], ['fc2.weight', 'fc2.bias']]);
    expect(s.groups[0].hyper.clipRadius).toBe(Infinity);
    expect(s.groups[1].hyper).toMatchObject({ lr: 0.05, hessInit: 0.5, weightDecay: 0.01, beta2: 0.999, clipRadius: 0.001 });
    expect(s.step).toBe(3);
  });

  it('passes the expectation of an ivon-edge model with the same layout', () => {
    const shapes = { 'fc1.weight': [3, 2], 'fc1.bias': [3], 'fc2.weight': [1, 3], 'fc2.bias': [1] };
    expect(() => decodeCheckpoint(bytes, { expect: { kind: 'ivon', shapes } })).not.toThrow();
  });

  it('our own writer stores the same content (different byte order, same snapshot)', () => {
    const ours = encodeCheckpoint(decodeCheckpoint(bytes));
    expect(ours).not.toEqual(bytes);
    expect(decodeCheckpoint(ours)).toEqual(expectedSnapshot());
  });

  it('export_ivon_torch.py itself, run on real torch over the ivon-opt stand-in, writes the same header and data', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'ivon-export-'));
    try {
      const out = join(dir, 'export.safetensors');
      const state = JSON.stringify(TORCH_STATE, (_, v) => (v === Infinity ? 'inf' : v));
      execFileSync(torchPython(), [join(root, 'test/fixtures/torch-interop/run_export.py'), out], {
        input: state,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: [join(root, 'tools'), join(root, 'test/fixtures/torch-interop')].join(delimiter) },
      });
      const written = new Uint8Array(readFileSync(out));
      const header = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b.subarray(8, parseSafetensors(b).dataStart)));
      // Same metadata strings (Python's own JSON spelling), same tensor entries, same data bytes.
      expect(header(written)).toEqual(header(bytes));
      expect(written.subarray(parseSafetensors(written).dataStart)).toEqual(bytes.subarray(parseSafetensors(bytes).dataStart));
      expect(decodeCheckpoint(written)).toEqual(expectedSnapshot());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
