// PyTorch -> ivon-edge, end to end on the real torch (Debian's python3-torch; no torch is a failure,
// never a skip): the ivon-opt stand-in (test/fixtures/torch-interop/ivon_standin.py, holding its
// state where ivon-opt 0.1.3 does) trains 3 steps, tools/export_ivon_torch.py exports it, and then
// torch and ivon-edge each continue 10 steps with the same injected ε and the same loss. They must
// agree to float32 rounding after every step. The two scenarios are the ones the export got wrong:
// gradsq + debias off + rescaleLr off (the options live on the optimizer object, not in
// param_groups), and a requires_grad=False parameter (ivon-opt keeps and updates its state too).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../src/checkpoint/index.js';
import { createRuntime, IVON, type Runtime } from '../src/index.js';
import { seededRandom } from './fixtures/sample-snapshots.js';
import { torchPython } from './fixtures/torch-python.js';

const PRE_STEPS = 3;
const POST_STEPS = 10;
const f = Math.fround;

interface ParamSpec {
  name: string;
  shape: number[];
  requires_grad: boolean;
  init: number[];
  a: number[];
  b: number[];
}

interface Scenario {
  groups: { params: ParamSpec[]; hyper: Record<string, number> }[];
  /** IvonStandIn's keyword arguments (Python names). */
  optimizer: Record<string, number | string | boolean>;
  pre_steps: number;
  post_steps: number;
  /** eps[step][sample][param name]: the injected standard normals. */
  eps: Record<string, number[]>[][];
}

type TorchRecord = Record<string, { mean: number[]; hess: number[]; momentum: number[] }>[];

function param(random: () => number, name: string, shape: number[], requiresGrad = true): ParamSpec {
  const count = shape.reduce((x, d) => x * d, 1);
  const values = (low: number, high: number) => Array.from({ length: count }, () => f(low + (high - low) * random()));
  return { name, shape, requires_grad: requiresGrad, init: values(-1, 1), a: values(0.2, 3), b: values(-1, 1) };
}

/** Box–Muller on the seeded generator, rounded to float32: the ε both sides inject. */
function normals(random: () => number, count: number): number[] {
  return Array.from({ length: count }, () => f(Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())));
}

function scenario(seed: number, optimizer: Scenario['optimizer'], groups: Scenario['groups']): Scenario {
  const random = seededRandom(seed);
  const samples = Number(optimizer.mc_samples ?? 1);
  const eps = Array.from({ length: PRE_STEPS + POST_STEPS }, () =>
    Array.from({ length: samples }, () =>
      Object.fromEntries(groups.flatMap((g) => g.params.map((p) => [p.name, normals(random, p.init.length)]))),
    ),
  );
  return { groups, optimizer, pre_steps: PRE_STEPS, post_steps: POST_STEPS, eps };
}

/** Runs the torch half; returns the exported file and torch's state after each continued step. */
function runTorch(s: Scenario): { bytes: Uint8Array; record: TorchRecord } {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'ivon-torch-'));
  try {
    const out = join(dir, 'export.safetensors');
    const stdout = execFileSync(torchPython(), [join(root, 'test/fixtures/torch-interop/continue_in_torch.py'), out], {
      input: JSON.stringify(s),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: [join(root, 'tools'), join(root, 'test/fixtures/torch-interop')].join(delimiter) },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { bytes: new Uint8Array(readFileSync(out)), record: JSON.parse(stdout.toString()) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ivon-edge continues from the export with the same ε and loss; requires_grad=False gets a zero gradient, as in ivon-opt. */
async function continueInIvonEdge(rt: Runtime, s: Scenario, bytes: Uint8Array): Promise<TorchRecord> {
  const specs = new Map(s.groups.flatMap((g) => g.params.map((p) => [p.name, p])));
  const opt = new IVON(rt, {
    groups: s.groups.map((g) => ({
      params: Object.fromEntries(g.params.map((p) => [p.name, new Float32Array(p.init.length)])),
      shapes: Object.fromEntries(g.params.map((p) => [p.name, p.shape])),
    })),
    lr: 1,
    ess: 1,
  });
  try {
    await opt.loadState(bytes);
    const record: TorchRecord = [];
    for (let step = s.pre_steps; step < s.pre_steps + s.post_steps; step++) {
      for (const sampleEps of s.eps[step]) {
        const epsilon = Object.fromEntries([...specs.keys()].map((name) => [name, Float32Array.from(sampleEps[name])]));
        await opt.sampledParams(
          (ctx) => {
            for (const [name, p] of specs) {
              const theta = ctx.theta(name);
              const grad = p.requires_grad ? Float32Array.from(theta, (t, i) => f(f(p.a[i] * t) + p.b[i])) : new Float32Array(theta.length);
              ctx.setGrad(name, grad);
            }
            return 0;
          },
          { epsilon },
        );
      }
      await opt.step();
      const snapshot = await opt.snapshot();
      record.push(
        Object.fromEntries(
          [...specs.keys()].map((name) => {
            const t = snapshot.tensors[name];
            return [name, { mean: Array.from(t.mean), hess: Array.from(t.hess!), momentum: Array.from(t.momentum!) }];
          }),
        ),
      );
    }
    return record;
  } finally {
    opt.dispose();
  }
}

/** Largest difference relative to max(|torch|, 1e-3): float32 rounding of two evaluation orders. */
function worstRelativeDifference(ours: TorchRecord, torch: TorchRecord): number {
  let worst = 0;
  ours.forEach((state, step) => {
    for (const [name, roles] of Object.entries(state)) {
      for (const role of ['mean', 'hess', 'momentum'] as const) {
        roles[role].forEach((x, i) => {
          const y = torch[step][name][role][i];
          worst = Math.max(worst, Math.abs(x - y) / Math.max(Math.abs(y), 1e-3));
        });
      }
    }
  });
  return worst;
}

describe('PyTorch ivon-opt stand-in -> export -> ivon-edge continues as torch does', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'js' });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  it('gradsq, debias off, rescaleLr off: the options come from the optimizer object and 10 continued steps agree', async () => {
    const random = seededRandom(11);
    const s = scenario(
      12,
      { lr: 0.05, ess: 50, hess_init: 0.5, beta2: 0.99, weight_decay: 1e-3, hess_approx: 'gradsq', debias: false, rescale_lr: false },
      [
        { params: [param(random, 'fc1.weight', [3, 2]), param(random, 'fc1.bias', [3])], hyper: {} },
        { params: [param(random, 'fc2.weight', [1, 3])], hyper: { lr: 0.02, clip_radius: 0.05 } },
      ],
    );
    const { bytes, record } = runTorch(s);
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.options).toEqual({ mcSamples: 1, hessApprox: 'gradsq', debias: false, rescaleLr: false, seed: 0, nonFinite: 'error' });
    expect(decoded.step).toBe(PRE_STEPS);
    expect(decoded.groups[1].hyper).toMatchObject({ lr: 0.02, clipRadius: 0.05, ess: 50, hessInit: 0.5, beta2: 0.99, weightDecay: 1e-3 });
    const ours = await continueInIvonEdge(rt, s, bytes);
    const worst = worstRelativeDifference(ours, record);
    expect(worst).toBeLessThan(1e-5);
    // The run really moved: the last means differ from the exported ones by far more than the tolerance.
    expect(Math.abs(ours[POST_STEPS - 1]['fc1.bias'].mean[0] - decoded.tensors['fc1.bias'].mean[0])).toBeGreaterThan(1e-2);
  }, 120_000);

  it('a requires_grad=False parameter is exported with its curvature and momentum, and 10 continued steps agree (price, 2 samples)', async () => {
    const random = seededRandom(21);
    const s = scenario(22, { lr: 0.1, ess: 20, hess_init: 1, beta2: 0.999, weight_decay: 1e-2, mc_samples: 2 }, [
      { params: [param(random, 'embed.weight', [2, 2], false), param(random, 'fc.weight', [2, 3]), param(random, 'fc.bias', [2])], hyper: {} },
    ]);
    const { bytes, record } = runTorch(s);
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.options).toMatchObject({ mcSamples: 2, hessApprox: 'price', debias: true, rescaleLr: true });
    expect(decoded.groups[0].params).toEqual(['embed.weight', 'fc.weight', 'fc.bias']);
    // ivon-opt updated the frozen-in-torch parameter's curvature (noise × zero gradient still moves h) and decayed its mean.
    const embed = decoded.tensors['embed.weight'];
    expect(Array.from(embed.hess!).every((h) => h !== 1)).toBe(true);
    expect(Array.from(embed.mean)).not.toEqual(s.groups[0].params[0].init);
    const ours = await continueInIvonEdge(rt, s, bytes);
    expect(worstRelativeDifference(ours, record)).toBeLessThan(1e-5);
  }, 120_000);
});
