// IVON (Shen et al., ICML 2024): a diagonal Gaussian posterior N(m, 1/(ess·(h+δ))) learned at
// about Adam's cost. The algorithm is IVON.md §2; this class maps it onto backend kernels:
// one sample per step runs sample → (model) → fused update, reading the gradient and noise
// straight from their buffers; further samples go through Welford accumulation first.
// A per-element prior (priorMean / priorPrecision, setPrior) adds two arena roles that every
// kernel using δ reads (docs/KERNELS.md §2.1); the step's kernels are the same with or without it.

import type { Arena, BackgroundDraw, HessApprox, IvonUpdateArgs, NextNoise, Range, Role, SampleArgs } from '../backend.js';
import { ConfigError, UsageError } from '../errors.js';
import { hasPrior } from '../kernels/args.js';
import { seedKey } from '../kernels/philox.js';
import type { Runtime } from '../runtime.js';
import { MAX_PREDICT_DRAWS } from './counters.js';
import type { ParamSlot } from './layout.js';
import { Optimizer, type CommonOptions, type GroupOptionsBase, type SampledParamsOptions, type StateRoles } from './optimizer.js';
import { checkPrior, PRIOR_ROLES, snapshotHasPrior, type CheckedPrior, type PriorInput, type PriorValues } from './prior.js';
import type { OptimizerSnapshot, TensorState } from './snapshot.js';
import * as check from './validate.js';
import { checkAlpha, parseIvonGroup as parseGroup, precision32, type IvonGroupHyper } from './hyper.js';

export type { IvonGroupHyper } from './hyper.js';


/** A group's per-element prior N(μ₀, 1/(ess·δ)), keyed by the group's parameter names (docs/IVON.md §2). */
export interface IvonPriorOptions {
  /** μ₀: the weight decay pulls toward it instead of 0. Parameters not named: 0. */
  priorMean?: PriorValues;
  /** δ per element, in place of the scalar weightDecay (finite, > 0 in float32). Parameters not named: weightDecay. */
  priorPrecision?: PriorValues;
}

export type IvonGroupOptions = GroupOptionsBase & Partial<Omit<IvonGroupHyper, 'frozen'>> & IvonPriorOptions;

/** IVON's state of one parameter (read()). */
export interface IvonParamState {
  mean: Float32Array;
  hess: Float32Array;
  momentum: Float32Array;
  /** 1/sqrt(ess·(h + δ_j)) in float64 from the float32 state. */
  sigma: Float32Array;
  /** μ₀ per element (zeros without a per-element prior). */
  priorMean: Float32Array;
  /** δ per element (the group's weightDecay, broadcast, without a per-element prior). */
  priorPrecision: Float32Array;
}

export interface IvonOptions extends Partial<Omit<IvonGroupHyper, 'frozen'>>, IvonPriorOptions, CommonOptions {
  params?: GroupOptionsBase['params'];
  shapes?: GroupOptionsBase['shapes'];
  frozen?: boolean;
  groups?: IvonGroupOptions[];
  mcSamples?: number;
  hessApprox?: HessApprox;
  debias?: boolean;
  rescaleLr?: boolean;
  seed?: number;
  /**
   * Regenerate the noise from its counter in the update instead of storing it: 8 fewer bytes per
   * element per step, one more normal drawn. Default: the backend's preference (webgpu yes, CPU no).
   * Results are bit-identical either way.
   */
  regenerateNoise?: boolean;
  /**
   * Draw each train sample's noise ahead, on an idle worker while the model's forward and backward
   * run, so step() is one memory-bound pass (docs/PERFORMANCE.md). Default true; it happens only
   * where the backend has idle workers (wasm with workers) and the noise is stored. Results are
   * bit-identical either way.
   */
  noiseAhead?: boolean;
}

const GLOBAL_KEYS = ['mcSamples', 'hessApprox', 'debias', 'rescaleLr', 'seed', 'nonFinite', 'regenerateNoise', 'noiseAhead'] as const;
/** Options that are not part of a snapshot (performance choices, not state). */
const SNAPSHOT_GLOBAL_KEYS = ['mcSamples', 'hessApprox', 'debias', 'rescaleLr', 'seed', 'nonFinite'] as const;
const GROUP_KEYS = ['lr', 'ess', 'hessInit', 'weightDecay', 'beta1', 'beta2', 'clipRadius'] as const;
const PRIOR_KEYS = ['priorMean', 'priorPrecision'] as const;
const ROLES: Role[] = ['mean', 'hess', 'momentum', 'theta', 'grad', 'noise', 'gradMean', 'curvMean'];

/** Training samples use stream 0 of the Philox counter, prediction draws stream 1. */
const TRAIN_STREAM = 0;
const PREDICT_STREAM = 1;




export class IVON extends Optimizer<IvonGroupHyper> {
  readonly kind = 'ivon' as const;
  private mcSamples_: number;
  private hessApprox_: HessApprox;
  private debias_: boolean;
  private rescaleLr_: boolean;
  private seed_: number;
  private predictDraws = 0;
  /**
   * The step's only sample so far, not yet in gradMean/curvMean (the fused path): its gradient is
   * in `grad` and its noise either 'stored' in `noise` or to be 'redraw'n from its counter.
   */
  private pending: 'none' | 'stored' | 'redraw' = 'none';
  /** How the current block's noise exists (set by beforeBlock, used by accumulate). */
  private blockNoise: 'stored' | 'redraw' = 'stored';
  private regenerateNoise_: boolean | undefined;
  /**
   * This step's first train sample was drawn by the last update: into θ alone (ivonUpdateAndDraw,
   * noise regenerated) or into θ and noise (ivonUpdateFusedAndSample, noise stored).
   */
  private predrawn: 'none' | 'theta' | 'thetaAndNoise' = 'none';
  /** What the update in flight draws for the next step; becomes `predrawn` once it completes. */
  private drawsNext: 'none' | 'theta' | 'thetaAndNoise' = 'none';
  /** Whether train samples' ε are drawn ahead into the 'epsilon' role (the backend can, noise is stored). */
  private readonly drawsAhead: boolean;
  private readonly noiseAheadOption: boolean;
  /** The roles of this optimizer's arena without the prior's. */
  private readonly baseRoles: readonly Role[];
  /**
   * The ε in the 'epsilon' role: the counter it was drawn for, and the background draw until it
   * was finished (undefined: complete). Stale once the counter, the seed or the arena differs.
   */
  private ahead: { sample: number; step: number; seed: number; arena: Arena; draw: BackgroundDraw | undefined } | undefined;

  constructor(runtime: Runtime, options: IvonOptions) {
    const where = 'IVON';
    const o = (options ?? {}) as Record<string, unknown>;
    const priorGroups = priorOptionGroups(where, o);
    const withPrior = priorGroups.some((g) => g !== undefined);
    const { wanted, drawsAhead } = decideNoiseAhead(where, runtime, o);
    const baseRoles: Role[] = drawsAhead ? [...ROLES, 'epsilon'] : ROLES;
    super(runtime, where, o, GLOBAL_KEYS, [...GROUP_KEYS, ...PRIOR_KEYS], withPrior ? [...baseRoles, ...PRIOR_ROLES] : baseRoles, parseGroup);
    this.drawsAhead = drawsAhead;
    this.noiseAheadOption = wanted;
    this.baseRoles = baseRoles;
    let priors: (CheckedPrior | undefined)[];
    try {
      priors = priorGroups.map((input, i) =>
        input && checkPrior(priorGroups.length > 1 ? `${where} groups[${i}]` : where, input, this.priorTarget((slot) => this.hyper[slot.group].hessInit), ConfigError, {
          mean: 'priorMean',
          precision: 'priorPrecision',
        }),
      );
      priors.forEach((prior, i) => {
        for (const name of [...(prior?.mean.keys() ?? []), ...(prior?.precision.keys() ?? [])]) {
          if (this.layout.params.get(name)!.group !== i) throw new ConfigError(`${where} groups[${i}]: the prior names '${name}', a parameter of another group; give it in that group`);
        }
      });
    } catch (error) {
      this.backend.destroyArena(this.arena);
      throw error;
    }
    this.mcSamples_ = o.mcSamples === undefined ? 1 : check.positiveInteger(where, 'mcSamples', o.mcSamples);
    this.hessApprox_ = o.hessApprox === undefined ? 'price' : check.oneOf(where, 'hessApprox', o.hessApprox, ['price', 'gradsq'] as const);
    this.debias_ = o.debias === undefined ? true : check.boolean(where, 'debias', o.debias);
    this.rescaleLr_ = o.rescaleLr === undefined ? true : check.boolean(where, 'rescaleLr', o.rescaleLr);
    this.seed_ = o.seed === undefined ? 0 : check.seed(where, o.seed);
    this.regenerateNoise_ = o.regenerateNoise === undefined ? undefined : check.boolean(where, 'regenerateNoise', o.regenerateNoise);
    this.initRoles();
    for (const prior of priors) if (prior) this.writePrior(prior);
    if (withPrior) this.constructorPriors = priors;
  }

  /** The prior given as options, for a failover before any snapshot was kept. */
  private constructorPriors: (CheckedPrior | undefined)[] | undefined;

  protected override initialOptionalTensors(slot: ParamSlot): Partial<TensorState> {
    if (!this.constructorPriors) return {};
    const prior = this.constructorPriors[slot.group];
    return {
      priorMean: prior?.mean.get(slot.name)?.slice() ?? new Float32Array(slot.count),
      priorPrecision: prior?.precision.get(slot.name)?.slice() ?? new Float32Array(slot.count).fill(this.hyper[slot.group].weightDecay),
    };
  }

  protected override initialValue(role: Role, hyper: IvonGroupHyper): number {
    return role === 'hess' ? hyper.hessInit : 0;
  }

  protected override checkStepSize(where: string, hyper: IvonGroupHyper): void {
    checkAlpha(where, hyper);
  }

  protected override initRoles(): void {
    this.layout.groups.forEach((group, i) => this.backend.fill(this.arena, 'hess', group.range, this.hyper[i].hessInit));
    this.fillUniformPrior();
  }

  /** True when the optimizer holds a per-element prior (priorMean / priorPrecision buffers). */
  get perElementPrior(): boolean {
    return hasPrior(this.arena);
  }

  /**
   * Replaces the prior of the named parameters between steps, e.g. with a posterior so that it
   * becomes the prior of further training: `mean` μ₀ and/or `precision` δ per element, in the
   * units of weightDecay (absolute prior precision ess·δ). Parameters and fields not given keep
   * their prior (initially μ₀ = 0, δ = the group's weightDecay). Validated completely first:
   * known, trainable names, the parameter's size, finite float32 values, δ > 0 and
   * ess·(h + δ) finite and > 0 with the current curvature h; nothing changes otherwise.
   */
  async setPrior(prior: PriorInput): Promise<void> {
    return this.exclusive('setPrior', () => this.failingOver(() => this.setPriorNow(prior)));
  }

  private async setPriorNow(prior: PriorInput): Promise<void> {
    const where = 'setPrior';
    if (this.samples > 0 || this.poisoned) {
      throw new UsageError(`${where}(): train blocks are waiting for step() (their noise was drawn under the current prior); call step() first`);
    }
    await this.backend.flush();
    const hess = await this.backend.read(this.arena, 'hess', { start: 0, count: this.layout.length });
    const checked = checkPrior(where, prior, this.priorTarget((slot) => hess.subarray(slot.start, slot.start + slot.count)), UsageError);
    if (checked.mean.size === 0 && checked.precision.size === 0) return;
    if (!this.perElementPrior) await this.addPriorRoles();
    this.writePrior(checked);
    this.predrawn = 'none'; // a pre-drawn θ used the old σ
    await this.backend.flush();
    await this.refreshRecoverySnapshot();
  }

  /** Samples per step the training loop should run (IVON.md §1); step() accepts any number ≥ 1. */
  get mcSamples(): number {
    return this.mcSamples_;
  }

  get hessApprox(): HessApprox {
    return this.hessApprox_;
  }

  get seed(): number {
    return this.seed_;
  }

  /** State of a parameter with σ = 1/sqrt(ess·(h+δ_j)) (float64 from the float32 state) and its prior. */
  async read(name: string): Promise<IvonParamState> {
    const t = await this.readTensors(name);
    const h = this.hyper[this.layout.params.get(name)!.group];
    const delta = t.priorPrecision;
    const hess = t.hess!;
    const sigma = new Float32Array(hess.length);
    // Plain loops (fit's posterior check reads this every epoch): the float64 σ rounded to float32.
    if (delta) for (let i = 0; i < hess.length; i++) sigma[i] = 1 / Math.sqrt(h.ess * (hess[i] + delta[i]));
    else for (let i = 0; i < hess.length; i++) sigma[i] = 1 / Math.sqrt(h.ess * (hess[i] + h.weightDecay));
    return {
      mean: t.mean,
      hess: t.hess!,
      momentum: t.momentum!,
      sigma,
      priorMean: t.priorMean ?? new Float32Array(t.mean.length),
      priorPrecision: delta ?? new Float32Array(t.mean.length).fill(h.weightDecay),
    };
  }

  protected stateRoles(): StateRoles {
    return [
      ['mean', 'mean'],
      ['hess', 'hess'],
      ['momentum', 'momentum'],
    ];
  }

  protected override optionalStateRoles(): StateRoles {
    return this.perElementPrior
      ? [
          ['priorMean', 'priorMean'],
          ['priorPrecision', 'priorPrecision'],
        ]
      : [];
  }

  protected thetaRole(slot: ParamSlot): Role {
    return this.layout.groups[slot.group].frozen ? 'mean' : 'theta';
  }

  protected checkBlockStart(train: boolean, options: SampledParamsOptions): void {
    if (!train && this.predictDraws >= MAX_PREDICT_DRAWS) {
      throw new UsageError(`sampledParams: ${this.predictDraws} prediction draws have used up the RNG counter's 32-bit sample word; restore a snapshot or start a new optimizer`);
    }
    if (options.epsilon === undefined) return;
    const eps = options.epsilon;
    if (eps === null || typeof eps !== 'object') throw new UsageError('sampledParams: epsilon must map parameter names to Float32Array');
    for (const name of Object.keys(eps)) {
      const slot = this.slotOf('sampledParams epsilon', name);
      if (this.layout.groups[slot.group].frozen) throw new UsageError(`sampledParams: epsilon given for frozen parameter '${name}'`);
      if (!(eps[name] instanceof Float32Array) || eps[name].length !== slot.count) {
        throw new UsageError(`sampledParams: epsilon '${name}' must be a Float32Array of ${slot.count} elements`);
      }
    }
    for (const slot of this.trainableSlots()) {
      if (!(slot.name in eps)) throw new UsageError(`sampledParams: epsilon is missing parameter '${slot.name}'; give ε for every trainable parameter`);
    }
  }

  /** Whether train samples regenerate their noise in the update (option, else the backend's preference). */
  get regeneratesNoise(): boolean {
    return regeneratesNoiseOn(this.backend, this.regenerateNoise_);
  }

  protected async beforeBlock(train: boolean, options: SampledParamsOptions): Promise<number> {
    // A train block (or injected ε) reuses grad/noise, so a pending single sample moves to the
    // accumulators first. Prediction draws write θ only and leave it alone. The fold rewrites the
    // accumulators whole, so if it fails the sample simply stays pending.
    if ((train || options.epsilon) && this.pending !== 'none') {
      this.foldPendingSample();
      await this.backend.flush();
      this.pending = 'none';
    }
    const sampleIndex = train ? this.samples : this.predictDraws;
    // Only a step's first sample can take the fused path, so only it may skip storing its noise.
    this.blockNoise = train && !options.epsilon && this.samples === 0 && this.regeneratesNoise ? 'redraw' : 'stored';
    // Any other block overwrites θ, so the pre-drawn sample is good for this block or never.
    const firstTrainSample = train && !options.epsilon && this.samples === 0;
    const usePredrawn = firstTrainSample && (this.predrawn === 'thetaAndNoise' || (this.predrawn === 'theta' && this.blockNoise === 'redraw'));
    this.predrawn = 'none';
    const aheadReady = train && !options.epsilon && !usePredrawn && this.blockNoise === 'stored' && this.takeAhead(sampleIndex, this.step_);
    this.layout.groups.forEach((group, i) => {
      if (group.frozen) return;
      const h = this.hyper[i];
      const args = this.sampleArgs(h, train ? TRAIN_STREAM : PREDICT_STREAM, sampleIndex);
      if (options.epsilon) {
        this.backend.fill(this.arena, 'noise', group.range, 0);
        for (const name of group.params) this.backend.write(this.arena, 'noise', this.layout.params.get(name)!.start, options.epsilon[name]);
        this.backend.ivonSampleGiven(this.arena, group.range, h.ess, h.weightDecay);
      } else if (!train || this.blockNoise === 'redraw') {
        if (!usePredrawn) this.backend.ivonDraw(this.arena, group.range, args);
      } else if (!usePredrawn && aheadReady) {
        // This sample's z was drawn ahead: scale it in place of drawing it (the same bits).
        this.backend.copy(this.arena, 'noise', 'epsilon', group.range);
        this.backend.ivonSampleGiven(this.arena, group.range, h.ess, h.weightDecay);
      } else if (!usePredrawn) {
        this.backend.ivonSample(this.arena, group.range, args);
      }
    });
    await this.backend.flush();
    // While the caller's block runs, a worker draws the z of the sample after this one.
    if (train && !options.epsilon) {
      const last = sampleIndex + 1 >= this.mcSamples_;
      this.startAhead(last ? 0 : sampleIndex + 1, last ? this.step_ + 1 : this.step_);
    }
    return sampleIndex;
  }

  protected override afterBlock(train: boolean): void {
    if (!train) this.predictDraws += 1; // only a draw that completed counts
  }

  protected async accumulate(): Promise<void> {
    const count = this.samples + 1;
    if (count === 1) {
      this.pending = this.blockNoise;
      this.samples = count;
      return;
    }
    // Welford updates the running means in place: on the pool, all groups commit or none.
    await this.transaction(['gradMean', 'curvMean'], async () => {
      this.forTrainableGroups((range) => this.backend.ivonAccumulate(this.arena, range, count, this.hessApprox_));
      await this.backend.flush();
    });
    this.samples = count;
  }

  protected override stepWrites(): Role[] {
    // The fused step with stored noise reads this step's noise and overwrites it with the next one's.
    const rewritesNoise = this.pending === 'stored' && this.samples === 1;
    return rewritesNoise ? ['mean', 'hess', 'momentum', 'noise'] : ['mean', 'hess', 'momentum'];
  }

  protected applyUpdate(t: number): void {
    const fused = this.pending !== 'none' && this.samples === 1;
    // A fused step draws the next step's first sample in the same pass (one trip over memory).
    this.drawsNext = !fused ? 'none' : this.pending === 'redraw' ? 'theta' : 'thetaAndNoise';
    if (this.pending !== 'none' && !fused) this.foldPendingSample();
    // The next step's first z, drawn ahead while the model ran: the step then only reads it.
    const next: NextNoise = fused && this.pending === 'stored' && this.takeAhead(0, t) ? 'epsilon' : 'draw';
    this.layout.groups.forEach((group, i) => {
      if (group.frozen) return;
      const h = this.hyper[i];
      const args = this.updateArgs(h, t);
      if (!fused) this.backend.ivonUpdate(this.arena, group.range, args);
      // Regenerating the noise means compute is cheap here: draw the next step's first sample in the same pass.
      else if (this.pending === 'redraw') this.backend.ivonUpdateAndDraw(this.arena, group.range, this.sampleArgs(h, TRAIN_STREAM, 0), args);
      else this.backend.ivonUpdateFusedAndSample(this.arena, group.range, this.sampleArgs(h, TRAIN_STREAM, 0), args, next);
    });
    // `pending` is cleared by discardSamples() once the update has completed: if it fails,
    // a retried step still finds the single sample in grad/noise (and folds it again).
  }

  protected discardSamples(): void {
    this.pending = 'none';
  }

  protected override afterUpdate(): void {
    this.predrawn = this.drawsNext;
    this.drawsNext = 'none';
  }

  override dispose(): Promise<void> {
    this.dropAhead(); // the worker stops; dispose() frees the arena after queued calls
    return super.dispose();
  }

  /** Whether ahead drawing is on for this optimizer, and what the backend's drawer reports. */
  get noiseAhead(): { enabled: boolean; reason: string } {
    if (this.drawsAhead) return { enabled: true, reason: `train samples' ε are drawn on a worker during the block (${this.backend.description})` };
    return { enabled: false, reason: noiseAheadRefusal(this.backend, this.regeneratesNoise, this.noiseAheadOption) };
  }

  protected override async restoreNow(snapshot: OptimizerSnapshot): Promise<void> {
    // A snapshot with a per-element prior needs the prior buffers: added first (holding the
    // uniform prior, the same results), and taken away again if the snapshot then fails a check.
    const adding = snapshotHasPrior('restore', snapshot, this.layout) && !this.perElementPrior;
    if (adding) await this.addPriorRoles();
    try {
      await super.restoreNow(snapshot);
    } catch (error) {
      if (adding) await this.moveToArena(this.baseRoles);
      throw error;
    }
    this.predrawn = 'none'; // θ belonged to the state that was replaced
  }

  protected globalOptions(): Record<string, number | boolean | string> {
    return {
      mcSamples: this.mcSamples_,
      hessApprox: this.hessApprox_,
      debias: this.debias_,
      rescaleLr: this.rescaleLr_,
      seed: this.seed_,
      nonFinite: this.nonFinite,
    };
  }

  protected rngState(): { seed: number; predictDraws: number } {
    return { seed: this.seed_, predictDraws: this.predictDraws };
  }

  protected parseRestoredGroup(where: string, hyper: Record<string, unknown>): IvonGroupHyper {
    const { frozen: _frozen, ...rest } = hyper;
    check.knownKeys(where, rest, GROUP_KEYS);
    return parseGroup(where, rest);
  }

  protected parseRestoredGlobals(s: OptimizerSnapshot): () => void {
    const where = 'restore';
    const o = s.options ?? {};
    check.knownKeys(where, o, SNAPSHOT_GLOBAL_KEYS);
    const mcSamples = check.positiveInteger(where, 'mcSamples', o.mcSamples);
    const hessApprox = check.oneOf(where, 'hessApprox', o.hessApprox, ['price', 'gradsq'] as const);
    const debias = check.boolean(where, 'debias', o.debias);
    const rescaleLr = check.boolean(where, 'rescaleLr', o.rescaleLr);
    const seed = check.seed(where, o.seed);
    const nonFinite = check.oneOf(where, 'nonFinite', o.nonFinite, ['error', 'skip'] as const);
    const draws = check.checkFinite(where, 'rng.predictDraws', s.rng?.predictDraws, (v) => Number.isInteger(v) && v >= 0 && v <= MAX_PREDICT_DRAWS, `an integer in [0, 2^32]`);
    if (s.rng?.seed !== seed) throw new ConfigError(`${where}: rng.seed ${s.rng?.seed} disagrees with options.seed ${seed}`);
    // The groups' hyper-parameters were validated before the globals (Optimizer.restoreNow).
    const withPrior = snapshotHasPrior(where, s, this.layout);
    for (const [name, slot] of this.layout.params) {
      const t = s.tensors[name];
      const g = s.groups[slot.group].hyper as unknown as IvonGroupHyper;
      const delta = withPrior ? t.priorPrecision! : undefined;
      const what = delta ? 'priorPrecision' : 'weightDecay';
      for (let i = 0; i < t.hess!.length; i++) {
        const precision = precision32(g.ess, t.hess![i], delta ? delta[i] : g.weightDecay);
        if (!check.isPositiveNormal32(precision)) {
          throw new ConfigError(
            `${where}: '${name}.hess' at index ${i} is ${t.hess![i]}: ess·(hess + ${what}) is ${precision} in float32, so σ = 1/sqrt(ess·(h+δ)) would be undefined; every element needs a product between 1.2e-38 and 3.4e38`,
          );
        }
      }
    }
    return () => {
      // A snapshot without a per-element prior means the uniform one (the restored weightDecay).
      if (!withPrior) this.fillUniformPrior();
      this.mcSamples_ = mcSamples;
      this.hessApprox_ = hessApprox;
      this.debias_ = debias;
      this.rescaleLr_ = rescaleLr;
      this.seed_ = seed;
      this.nonFinite = nonFinite;
      this.predictDraws = draws;
    };
  }

  /** Host-side float64 scalars of the update (IVON.md §2). */
  private updateArgs(h: IvonGroupHyper, t: number): IvonUpdateArgs {
    const oneMinusBeta2 = 1 - h.beta2;
    return {
      hessApprox: this.hessApprox_,
      ess: h.ess,
      weightDecay: h.weightDecay,
      beta1: h.beta1,
      oneMinusBeta1: 1 - h.beta1,
      beta2: h.beta2,
      oneMinusBeta2,
      curvCoef: 0.5 * oneMinusBeta2 * oneMinusBeta2,
      invDebias: this.debias_ ? 1 / (1 - Math.pow(h.beta1, t)) : 1,
      alpha: this.rescaleLr_ ? h.lr * (h.hessInit + h.weightDecay) : h.lr,
      clipRadius: h.clipRadius,
    };
  }

  /** Enqueues moving the pending single sample into the accumulators; the caller clears `pending` once it completed. */
  private foldPendingSample(): void {
    if (this.pending === 'redraw') {
      // Materialise the first sample's noise (same counter, same bits) for the accumulator.
      this.layout.groups.forEach((group, i) => {
        if (!group.frozen) this.backend.ivonSample(this.arena, group.range, this.sampleArgs(this.hyper[i], TRAIN_STREAM, 0));
      });
    }
    this.forTrainableGroups((range) => {
      this.backend.fill(this.arena, 'gradMean', range, 0);
      this.backend.fill(this.arena, 'curvMean', range, 0);
      this.backend.ivonAccumulate(this.arena, range, 1, this.hessApprox_);
    });
  }

  /** Fills the prior buffers, if any, with the uniform prior: μ₀ = 0, δ = each group's weightDecay. */
  private fillUniformPrior(): void {
    if (!this.perElementPrior) return;
    this.layout.groups.forEach((group, i) => {
      this.backend.fill(this.arena, 'priorMean', group.range, 0);
      this.backend.fill(this.arena, 'priorPrecision', group.range, this.hyper[i].weightDecay);
    });
  }

  private writePrior(prior: CheckedPrior): void {
    for (const [name, data] of prior.mean) this.backend.write(this.arena, 'priorMean', this.layout.params.get(name)!.start, data);
    for (const [name, data] of prior.precision) this.backend.write(this.arena, 'priorPrecision', this.layout.params.get(name)!.start, data);
  }

  /**
   * Moves the state into an arena that also has the prior buffers, holding the uniform prior (so
   * the optimizer computes exactly what it did).
   */
  private async addPriorRoles(): Promise<void> {
    await this.moveToArena([...this.baseRoles, ...PRIOR_ROLES]);
    this.fillUniformPrior();
  }

  /** Moves the state into a new arena with these roles (the ones both have are copied). Views and bindings of the old arena are invalid. */
  private async moveToArena(roles: readonly Role[]): Promise<void> {
    this.dropAhead();
    const old = this.arena;
    const kept = old.roles.filter((role) => roles.includes(role) && role !== 'epsilon');
    const whole = { start: 0, count: this.layout.length };
    await this.backend.flush();
    const copies = await Promise.all(kept.map((role) => this.backend.read(old, role, whole)));
    const next = this.backend.createArena(this.layout.length, roles);
    kept.forEach((role, i) => this.backend.write(next, role, 0, copies[i]));
    this.arena = next;
    this.backend.destroyArena(old);
  }

  private priorTarget(hess: (slot: ParamSlot) => number | Float32Array) {
    return { layout: this.layout, ess: this.hyper.map((h) => h.ess), hess };
  }

  /** Starts drawing the z of train sample (sample, step) on an idle worker, if the backend can now. */
  private startAhead(sample: number, step: number): void {
    if (!this.drawsAhead) return;
    this.dropAhead();
    const ranges: Range[] = this.layout.groups.filter((g) => !g.frozen).map((g) => g.range);
    const { seedLo, seedHi } = seedKey(this.seed_);
    const draw = this.backend.drawEpsilonAhead?.(this.arena, ranges, { sample, step, stream: TRAIN_STREAM, seedLo, seedHi, ess: 0, weightDecay: 0 });
    if (draw) this.ahead = { sample, step, seed: this.seed_, arena: this.arena, draw };
  }

  /**
   * True when the 'epsilon' role holds (or, once finished here, will hold) the z of train sample
   * (sample, step): the background draw is then completed on this thread. Anything else there is
   * stale and dropped.
   */
  private takeAhead(sample: number, step: number): boolean {
    const a = this.ahead;
    if (!a) return false;
    if (a.sample !== sample || a.step !== step || a.seed !== this.seed_ || a.arena !== this.arena) {
      this.dropAhead();
      return false;
    }
    a.draw?.finish();
    a.draw = undefined;
    return true;
  }

  private dropAhead(): void {
    this.ahead?.draw?.cancel();
    this.ahead = undefined;
  }

  /** The counter and σ inputs of a draw of this step. */
  private sampleArgs(h: IvonGroupHyper, stream: number, sample: number): SampleArgs {
    const { seedLo, seedHi } = seedKey(this.seed_);
    return { sample, step: this.step_, stream, seedLo, seedHi, ess: h.ess, weightDecay: h.weightDecay };
  }

  private forTrainableGroups(fn: (range: { start: number; count: number }) => void): void {
    for (const group of this.layout.groups) if (!group.frozen) fn(group.range);
  }
}

/** Whether the noise is regenerated in the update rather than stored: the option, else what the backend prefers. */
function regeneratesNoiseOn(backend: Runtime['compute'], option: boolean | undefined): boolean {
  return option ?? backend.prefersRedraw;
}

/** Whether an IVON optimizer on this runtime draws its noise ahead (validates the option first). */
function decideNoiseAhead(where: string, runtime: Runtime, o: Record<string, unknown>): { wanted: boolean; drawsAhead: boolean } {
  const wanted = o.noiseAhead === undefined ? true : check.boolean(where, 'noiseAhead', o.noiseAhead);
  const backend = (runtime as Runtime | undefined)?.compute;
  if (!backend) return { wanted, drawsAhead: false }; // the base class reports the bad runtime
  const storesNoise = !regeneratesNoiseOn(backend, typeof o.regenerateNoise === 'boolean' ? o.regenerateNoise : undefined);
  return { wanted, drawsAhead: wanted && storesNoise && typeof backend.drawEpsilonAhead === 'function' };
}

function noiseAheadRefusal(backend: Runtime['compute'], regenerates: boolean, wanted: boolean): string {
  if (!wanted) return 'noiseAhead: false';
  if (regenerates) return 'the noise is regenerated in the update (regenerateNoise), so there is none to draw ahead';
  return `the ${backend.kind} backend has no idle worker to draw it on (wasm with workers does; one thread or the GPU: the step draws it)`;
}

/**
 * Each group's priorMean / priorPrecision options (undefined where none). The optimizer-wide ones
 * belong to the one-group shorthand; with groups they go inside each group.
 */
function priorOptionGroups(where: string, o: Record<string, unknown>): (PriorInput | undefined)[] {
  const pick = (raw: Record<string, unknown>): PriorInput | undefined =>
    raw.priorMean === undefined && raw.priorPrecision === undefined ? undefined : { mean: raw.priorMean as PriorValues, precision: raw.priorPrecision as PriorValues };
  if (!Array.isArray(o.groups)) return [pick(o)];
  if (o.priorMean !== undefined || o.priorPrecision !== undefined) {
    throw new ConfigError(`${where}: priorMean / priorPrecision name one group's parameters; with groups, give them inside each group`);
  }
  return o.groups.map((g) => (g !== null && typeof g === 'object' ? pick(g as Record<string, unknown>) : undefined));
}
