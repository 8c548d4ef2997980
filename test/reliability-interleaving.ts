// Issue #11, item 1's proof: random schedules of the public async API — train and prediction
// blocks, step, snapshot, restore, saveState, dispose and a nested call from inside a block —
// each call awaited or not. The optimizer promises that any interleaving acts as the calls in
// call order, each awaited in turn (a FIFO per optimizer), or fails with a documented error. So
// every schedule runs twice: overlapped on one optimizer, strictly sequentially on a twin, and
// each call's outcome (value bits or error class) and the final state must be identical.
import { expect } from 'vitest';
import { IVON, type IvonOptions, type OptimizerSnapshot, type Runtime, type SampleContext } from '../src/index.js';
import { mulberry32 } from './conformance/helpers.js';
import { quadraticGrad, rejectionOf } from './reliability-helpers.js';

type Op =
  | { kind: 'train' | 'predict' | 'step' | 'snapshot' | 'saveState' | 'dispose' | 'nested'; awaited: boolean }
  | { kind: 'restore'; awaited: boolean; /** Index of an earlier, awaited snapshot op; -1: the initial snapshot. */ from: number };

const NAMES = ['w', 'v'];
const options = (): IvonOptions => ({
  groups: [
    { params: { w: Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)) }, lr: 0.05 },
    { params: { v: Float32Array.from({ length: 20 }, (_, i) => Math.cos(i)) }, lr: 0.02, weightDecay: 1e-3 },
  ],
  ess: 200,
  beta2: 0.99,
  seed: 3,
});

/** A random schedule of `length` calls; dispose is rare, restores only use snapshots already resolved. */
export function randomSchedule(seed: number, length: number): Op[] {
  const rng = mulberry32(seed);
  const ops: Op[] = [];
  const kinds = ['train', 'train', 'train', 'predict', 'step', 'step', 'snapshot', 'restore', 'saveState', 'nested'] as const;
  for (let i = 0; i < length; i++) {
    const awaited = rng() < 0.5;
    if (rng() < 0.02) {
      ops.push({ kind: 'dispose', awaited });
      continue;
    }
    const kind = kinds[Math.floor(rng() * kinds.length)];
    if (kind === 'restore') {
      const ready = ops.flatMap((op, j) => (op.kind === 'snapshot' && op.awaited ? [j] : []));
      const pick = Math.floor(rng() * (ready.length + 1));
      ops.push({ kind, awaited, from: pick === ready.length ? -1 : ready[pick] });
    } else ops.push({ kind, awaited });
  }
  return ops;
}

/** A short, comparable description of a call's result: every float's bits, or the error's class. */
function signature(value: unknown): string {
  if (value instanceof Error) return `error:${value.name}`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `number:${new Uint32Array(Float64Array.of(value).buffer).join(',')}`;
  if (value instanceof Float32Array || value instanceof Uint8Array) return `${value.constructor.name}:${hash(value)}`;
  if (isSnapshot(value)) {
    const tensors = Object.entries(value.tensors).map(([name, t]) => `${name}=${hash(t.mean)}/${hash(t.hess!)}/${hash(t.momentum!)}`);
    return `snapshot:${JSON.stringify([value.step, value.skippedSteps, value.rng, value.groups, value.options])}:${tensors.join(';')}`;
  }
  return JSON.stringify(value);
}

function isSnapshot(v: unknown): v is OptimizerSnapshot {
  return typeof v === 'object' && v !== null && 'tensors' in v && 'step' in v;
}

/** FNV-1a over the bytes (equal bits ⇔ equal hash, for these sizes, with overwhelming odds). */
function hash(a: Float32Array | Uint8Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return `${a.length}#${h.toString(16)}`;
}

async function trainBlock(ctx: SampleContext): Promise<number> {
  let first = 0;
  for (const name of NAMES) {
    const theta = await ctx.readTheta(name);
    ctx.setGrad(name, quadraticGrad(theta));
    first += theta[0];
  }
  return first;
}

/** Issues the schedule's calls on `opt`; `sequential` awaits every call, otherwise only those marked. */
async function play(opt: IVON, ops: Op[], initial: OptimizerSnapshot, sequential: boolean): Promise<string[]> {
  const results: Promise<unknown>[] = [];
  const settled: unknown[] = [];
  for (const [i, op] of ops.entries()) {
    let call: Promise<unknown>;
    switch (op.kind) {
      case 'train':
        call = opt.sampledParams(trainBlock);
        break;
      case 'predict':
        call = opt.sampledParams((ctx) => ctx.readTheta('v'), { train: false });
        break;
      case 'nested':
        // A call from inside the callback cannot wait for its own block: documented UsageError.
        call = opt.sampledParams(async (ctx) => {
          const inner = await Promise.all([rejectionOf(opt.step()), rejectionOf(opt.snapshot()), rejectionOf(opt.sampledParams(trainBlock))]);
          await trainBlock(ctx);
          return inner.map(signature).join('|');
        });
        break;
      case 'step':
        call = opt.step();
        break;
      case 'snapshot':
        call = opt.snapshot();
        break;
      case 'saveState':
        call = opt.saveState();
        break;
      case 'dispose':
        call = Promise.resolve(opt.dispose());
        break;
      case 'restore': {
        const source = op.from < 0 ? initial : settled[op.from];
        call = isSnapshot(source) ? opt.restore(source) : Promise.resolve('no snapshot');
        break;
      }
    }
    const outcome = call.then((v) => v, (e: unknown) => e);
    results.push(outcome);
    if (sequential || op.awaited) settled[i] = await outcome;
  }
  const all = await Promise.all(results);
  return all.map(signature);
}

/** Runs `count` random schedules on `runtime`, each overlapped and sequential, and compares them. */
export async function checkSchedules(runtime: Runtime, count: number, seed: number, length = 10): Promise<{ calls: number; errors: Record<string, number> }> {
  const errors: Record<string, number> = {};
  let calls = 0;
  for (let s = 0; s < count; s++) {
    const ops = randomSchedule(seed + s, length);
    const overlapped = new IVON(runtime, options());
    const twin = new IVON(runtime, options());
    const initial = await twin.snapshot();
    const got = await play(overlapped, ops, initial, false);
    const want = await play(twin, ops, initial, true);
    const at = `schedule ${seed + s}: ${ops.map((o) => `${o.kind}${o.awaited ? '' : '*'}`).join(' ')}`;
    expect(got, at).toEqual(want);
    const disposed = ops.some((o) => o.kind === 'dispose');
    if (!disposed) expect(signature(await overlapped.snapshot()), `${at}: final state`).toBe(signature(await twin.snapshot()));
    await Promise.all([overlapped.dispose(), twin.dispose()]);
    calls += ops.length;
    for (const sig of got) if (sig.startsWith('error:')) errors[sig] = (errors[sig] ?? 0) + 1;
  }
  return { calls, errors };
}
