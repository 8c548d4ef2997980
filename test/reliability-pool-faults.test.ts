// Issue #11, items 2 and 3: a worker that crashes, throws or hangs in ANY pool kernel an optimizer
// runs — in a multi-group, multi-sample step, in the later group after an earlier one committed —
// fails that call with a clear error and leaves the whole state (mean, hess, momentum, Welford
// accumulators, sample counter, t, prediction draws, pre-drawn θ) exactly as before, so the
// retried call rejoins the clean run: the final state equals an unperturbed twin's bit for bit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolBackend, WorkerFault } from '../src/backends/pool.js';
import { AdamW, createRuntime, IVON, SGD, WorkerCrashedError, WorkerTimeoutError, type Runtime, type SampleContext } from '../src/index.js';
import { bits, expectSameState, quadraticGrad } from './reliability-helpers.js';

const TIMEOUT_MS = 300;
/** Group 0 is too small to shard (it runs on the main thread and commits first); group 1 is split
 *  between the main thread and the worker, where the fault strikes; group 2 is frozen. */
const sizes = { a: 40, b: 10_000, c: 24 };
const groups = (): Array<{ params: Record<string, Float32Array>; lr: number; frozen?: boolean }> => [
  { params: { a: Float32Array.from({ length: sizes.a }, (_, i) => Math.sin(i)) }, lr: 0.05 },
  { params: { b: Float32Array.from({ length: sizes.b }, (_, i) => Math.cos(i) * 0.3) }, lr: 0.02 },
  { params: { c: new Float32Array(sizes.c).fill(0.5) }, frozen: true, lr: 0.1 },
];
const TRAINABLE = ['a', 'b'];

interface Config {
  name: string;
  make: (rt: Runtime) => IVON | AdamW | SGD;
  samples: number;
  epsilon?: boolean;
  /** Parameters that take gradients (default a and b). */
  trainable?: string[];
  /** The pool kernels this configuration's blocks and steps run (each gets a fault). */
  kernels: string[];
}

// noiseAhead off: a background draw holds the one worker for a moment, so which kernels get
// sharded (and meet the fault) would depend on timing; test/noise-ahead.test.ts covers its faults.
const ivon = (extra: Record<string, unknown>) => (rt: Runtime) => new IVON(rt, { groups: groups(), ess: 300, beta2: 0.99, seed: 7, noiseAhead: false, ...extra });
const configs: Config[] = [
  { name: 'IVON, 3 samples, stored noise', make: ivon({ mcSamples: 3, regenerateNoise: false }), samples: 3, kernels: ['ivonSample', 'ivonAccumulate', 'ivonUpdate', 'countNonFinite', 'ivonDraw'] },
  { name: 'IVON, 1 sample, stored noise (fused step)', make: ivon({ regenerateNoise: false }), samples: 1, kernels: ['ivonUpdateFusedAndSample'] },
  { name: 'IVON, 1 sample, regenerated noise (fused step)', make: ivon({ regenerateNoise: true }), samples: 1, kernels: ['ivonUpdateAndDraw'] },
  { name: 'IVON, 2 samples, regenerated noise (fold)', make: ivon({ mcSamples: 2, regenerateNoise: true }), samples: 2, kernels: ['ivonSample', 'ivonAccumulate', 'ivonUpdate'] },
  { name: 'IVON, 2 samples, injected ε', make: ivon({ mcSamples: 2 }), samples: 2, epsilon: true, kernels: ['ivonSampleGiven'] },
  {
    name: 'IVON, 3 samples, one trainable group (the pool undoes its one kernel call)',
    make: (rt) => new IVON(rt, { groups: groups().filter((g) => !g.params.a), ess: 300, beta2: 0.99, seed: 7, mcSamples: 3, noiseAhead: false }),
    samples: 3,
    trainable: ['b'],
    kernels: ['ivonAccumulate', 'ivonUpdate'],
  },
  { name: 'AdamW', make: (rt) => new AdamW(rt, { groups: groups() }), samples: 1, kernels: ['adamwUpdate', 'countNonFinite'] },
  { name: 'SGD', make: (rt) => new SGD(rt, { groups: groups(), momentum: 0.9 }), samples: 1, kernels: ['sgdUpdate'] },
];

const faults: Array<WorkerFault['kind']> = ['exit', 'throw', 'hang'];

function epsilonFor(step: number, sample: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const name of TRAINABLE) {
    out[name] = Float32Array.from({ length: name === 'a' ? sizes.a : sizes.b }, (_, i) => Math.sin(i * 0.7 + step * 3 + sample));
  }
  return out;
}

const trainer = (names: string[]) => async (ctx: SampleContext): Promise<number> => {
  for (const name of names) ctx.setGrad(name, quadraticGrad(await ctx.readTheta(name)));
  return 0;
};

describe('pool faults in every kernel of multi-group, multi-sample steps', () => {
  let rt: Runtime;
  let reference: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'wasm', workers: 1, minElementsPerWorker: 1024, workerTimeoutMs: TIMEOUT_MS });
    reference = await createRuntime({ backend: 'wasm' }); // the pool is bit-identical to one thread
  });
  afterAll(async () => {
    await rt?.dispose();
    await reference?.dispose();
  });

  /** Three steps of `samples` train blocks and one prediction draw each; a failed call is retried once. */
  async function run(opt: IVON | AdamW | SGD, config: Config, fault?: { kind: WorkerFault['kind']; kernel: string }) {
    const train = trainer(config.trainable ?? TRAINABLE);
    const failures: Error[] = [];
    const draws: number[][] = [];
    const retrying = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof WorkerCrashedError || error instanceof WorkerTimeoutError)) throw error;
        failures.push(error);
        return call();
      }
    };
    for (let step = 0; step < 3; step++) {
      if (fault && step === 1) {
        const afterChunks = ['ivonSample', 'ivonDraw', 'countNonFinite'].includes(fault.kernel) ? 0 : 1;
        await (rt.compute as PoolBackend).injectFault(0, { kind: fault.kind, afterChunks, kernel: fault.kernel });
      }
      for (let s = 0; s < config.samples; s++) {
        await retrying(() => opt.sampledParams(train, config.epsilon ? { epsilon: epsilonFor(step, s) } : {}));
      }
      if (opt instanceof IVON) draws.push(bits(await retrying(() => opt.sampledParams((ctx) => ctx.readTheta('b'), { train: false }))));
      await retrying(() => opt.step());
    }
    return { failures, draws };
  }

  for (const config of configs) {
    for (const kernel of config.kernels) {
      for (const kind of faults) {
        it(`${config.name}: ${kind} in ${kernel} fails one call, changes nothing, and the retry rejoins the twin`, async () => {
          const opt = config.make(rt);
          const twin = config.make(reference);
          const perturbed = await run(opt, config, { kind, kernel });
          const clean = await run(twin, config);
          expect(perturbed.failures.map((e) => e.name)).toEqual([kind === 'hang' ? 'WorkerTimeoutError' : 'WorkerCrashedError']);
          expect((perturbed.failures[0] as WorkerCrashedError).kernel).toBe(kernel);
          expect(opt.stepCount).toBe(3);
          expect(perturbed.draws).toEqual(clean.draws);
          await expectSameState(opt, twin);
          await Promise.all([opt.dispose(), twin.dispose()]);
        });
      }
    }
  }
});
