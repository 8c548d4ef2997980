// The 'js' backend: plain TypeScript over Float32Arrays. It is the portable fallback (runs wherever
// JavaScript runs) and the executable definition of every kernel (src/kernels/), so the other
// backends are tested against it.

import type {
  AdamwUpdateArgs,
  Arena,
  Backend,
  HessApprox,
  IvonUpdateArgs,
  NextNoise,
  Range,
  Role,
  SampleArgs,
  SgdUpdateArgs,
} from '../backend.js';
import { adamwUpdate, sgdUpdate } from '../kernels/adamw.js';
import {
  ivonAccumulate,
  ivonDraw,
  ivonSample,
  ivonSampleGiven,
  ivonUpdate,
  ivonUpdateAndDraw,
  ivonUpdateFusedAndSample,
  ivonUpdateFused,
  ivonUpdateRedraw,
} from '../kernels/ivon.js';
import { fillNormal } from '../kernels/normal.js';
import { philoxBlocks } from '../kernels/philox.js';
import { countNonFinite } from '../kernels/probe.js';
import { counterArgs, hasPrior, hessApproxCode, updateScalars } from '../kernels/args.js';

interface JsArena extends Arena {
  readonly buffers: Map<Role, Float32Array>;
}

/** The per-element prior buffers of the range, or nulls when the arena has no prior (docs/KERNELS.md §2). */
function prior(arena: Arena, range: Range): [priorMean: Float32Array | null, priorPrecision: Float32Array | null] {
  return hasPrior(arena) ? [buffer(arena, 'priorMean', range), buffer(arena, 'priorPrecision', range)] : [null, null];
}

function buffer(arena: Arena, role: Role, range: Range): Float32Array {
  const whole = (arena as JsArena).buffers.get(role);
  if (!whole) throw new Error(`internal: arena has no '${role}' buffer (roles: ${arena.roles.join(', ')})`);
  return whole.subarray(range.start, range.start + range.count);
}

export class JsBackend implements Backend {
  readonly kind = 'js' as const;
  readonly description = 'plain TypeScript (float32 via Math.fround), single thread';
  /** Drawing a normal costs far more than moving 8 bytes here: store the noise. */
  readonly prefersRedraw = false;

  createArena(length: number, roles: readonly Role[]): Arena {
    const buffers = new Map<Role, Float32Array>();
    for (const role of roles) buffers.set(role, new Float32Array(length));
    const arena: JsArena = { length, roles: [...roles], buffers };
    return arena;
  }

  destroyArena(arena: Arena): void {
    (arena as JsArena).buffers.clear();
  }

  view(arena: Arena, role: Role, range: Range): Float32Array {
    return buffer(arena, role, range);
  }

  write(arena: Arena, role: Role, start: number, data: Float32Array): void {
    buffer(arena, role, { start, count: data.length }).set(data);
  }

  async read(arena: Arena, role: Role, range: Range): Promise<Float32Array> {
    return buffer(arena, role, range).slice();
  }

  fill(arena: Arena, role: Role, range: Range, value: number): void {
    buffer(arena, role, range).fill(value);
  }

  copy(arena: Arena, dst: Role, src: Role, range: Range): void {
    buffer(arena, dst, range).set(buffer(arena, src, range));
  }

  async countNonFinite(arena: Arena, role: Role, range: Range): Promise<number> {
    return countNonFinite(buffer(arena, role, range), range.count);
  }

  ivonSample(arena: Arena, range: Range, a: SampleArgs): void {
    ivonSample(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'noise', range),
      buffer(arena, 'theta', range),
      prior(arena, range)[1],
      range.count,
      range.start,
      ...counterArgs(a),
      a.ess,
      a.weightDecay,
    );
  }

  ivonDraw(arena: Arena, range: Range, a: SampleArgs): void {
    ivonDraw(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'theta', range),
      prior(arena, range)[1],
      range.count,
      range.start,
      ...counterArgs(a),
      a.ess,
      a.weightDecay,
    );
  }

  ivonUpdateRedraw(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs): void {
    ivonUpdateRedraw(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'momentum', range),
      buffer(arena, 'grad', range),
      ...prior(arena, range),
      range.count,
      range.start,
      ...counterArgs(s),
      ...updateScalars(a),
    );
  }

  ivonUpdateAndDraw(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs): void {
    ivonUpdateAndDraw(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'momentum', range),
      buffer(arena, 'grad', range),
      buffer(arena, 'theta', range),
      ...prior(arena, range),
      range.count,
      range.start,
      ...counterArgs(s),
      ...updateScalars(a),
    );
  }

  ivonUpdateFusedAndSample(arena: Arena, range: Range, s: SampleArgs, a: IvonUpdateArgs, next: NextNoise = 'draw'): void {
    ivonUpdateFusedAndSample(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'momentum', range),
      buffer(arena, 'grad', range),
      buffer(arena, 'noise', range),
      buffer(arena, 'theta', range),
      next === 'epsilon' ? buffer(arena, 'epsilon', range) : null,
      ...prior(arena, range),
      range.count,
      range.start,
      ...counterArgs(s),
      ...updateScalars(a),
    );
  }

  drawEpsilon(arena: Arena, range: Range, s: SampleArgs): void {
    fillNormal(buffer(arena, 'epsilon', range), range.count, range.start, ...counterArgs(s));
  }

  ivonSampleGiven(arena: Arena, range: Range, ess: number, weightDecay: number): void {
    ivonSampleGiven(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'noise', range),
      buffer(arena, 'theta', range),
      prior(arena, range)[1],
      range.count,
      ess,
      weightDecay,
    );
  }

  ivonAccumulate(arena: Arena, range: Range, sampleCount: number, hessApprox: HessApprox): void {
    ivonAccumulate(
      buffer(arena, 'grad', range),
      buffer(arena, 'noise', range),
      buffer(arena, 'gradMean', range),
      buffer(arena, 'curvMean', range),
      range.count,
      sampleCount,
      hessApproxCode(hessApprox),
    );
  }

  ivonUpdate(arena: Arena, range: Range, a: IvonUpdateArgs): void {
    ivonUpdate(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'momentum', range),
      buffer(arena, 'gradMean', range),
      buffer(arena, 'curvMean', range),
      ...prior(arena, range),
      range.count,
      ...updateScalars(a),
    );
  }

  ivonUpdateFused(arena: Arena, range: Range, a: IvonUpdateArgs): void {
    ivonUpdateFused(
      buffer(arena, 'mean', range),
      buffer(arena, 'hess', range),
      buffer(arena, 'momentum', range),
      buffer(arena, 'grad', range),
      buffer(arena, 'noise', range),
      ...prior(arena, range),
      range.count,
      ...updateScalars(a),
    );
  }

  adamwUpdate(arena: Arena, range: Range, a: AdamwUpdateArgs): void {
    adamwUpdate(
      buffer(arena, 'mean', range),
      buffer(arena, 'grad', range),
      buffer(arena, 'momentum', range),
      buffer(arena, 'expAvgSq', range),
      range.count,
      a.stepSize, a.decayFactor, a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.eps, a.invBiasCorrection2Sqrt,
    );
  }

  sgdUpdate(arena: Arena, range: Range, a: SgdUpdateArgs): void {
    sgdUpdate(buffer(arena, 'mean', range), buffer(arena, 'grad', range), buffer(arena, 'momentum', range), range.count, a.lr, a.momentum, a.weightDecay);
  }

  async randomBits(firstBlock: number, blocks: number, c1: number, c2: number, c3: number, k0: number, k1: number): Promise<Uint32Array> {
    const out = new Uint32Array(4 * blocks);
    philoxBlocks(out, blocks, firstBlock, c1, c2, c3, k0, k1);
    return out;
  }

  async randomNormals(first: number, count: number, sample: number, step: number, stream: number, seedLo: number, seedHi: number): Promise<Float32Array> {
    const out = new Float32Array(count);
    fillNormal(out, count, first, sample, step, stream, seedLo, seedHi);
    return out;
  }

  async flush(): Promise<void> {}

  async dispose(): Promise<void> {}
}
