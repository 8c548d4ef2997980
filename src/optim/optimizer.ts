// What IVON, AdamW and SGD share: parameter groups and their layout in one arena, the sampled
// block protocol (sampledParams → step), reading state, schedules and snapshots. Subclasses add
// their hyper-parameters and kernels. Every public method validates first and mutates after, so
// a thrown error leaves the optimizer exactly as it was.
//
// Reliability (issue #11): every public async call joins one FIFO queue per optimizer, so any
// interleaving a user writes acts as if each call had been awaited in turn; a call from inside a
// block's callback (which cannot wait for the block it is part of) is a UsageError. A step and a
// block's accumulation are transactions over all groups: where a kernel can fail after other
// groups committed (the worker pool) the roles they write are copied first and put back.

import type { Arena, Backend, Range, Role } from '../backend.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointExpectation } from '../checkpoint/checkpoint.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { ConfigError, NonFiniteGradientError, UsageError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { buildLayout, checkGroupParams, type GroupParams, type Layout, type ParamSlot } from './layout.js';
import { isDeviceLoss, parseRecovery, RecoveredError, type RecoveryInfo, type RecoveryOptions, type RecoveryPolicy } from './recovery.js';
import { MAX_STEPS } from './counters.js';
import { CpuStaging } from './cpu-staging.js';
import { SampleContext } from './sample-context.js';
import type { GroupState, OptimizerKind, OptimizerSnapshot, TensorState } from './snapshot.js';
import * as check from './validate.js';

export type ParamValues = Record<string, Float32Array | number[]>;

/** Options every optimizer takes besides parameters and hyper-parameters. */
export interface CommonOptions {
  /** 'error' (default): a non-finite gradient throws before any state changes; 'skip': skip the step, count it. */
  nonFinite?: NonFinitePolicy;
  /** Device-loss recovery: false, or when to snapshot (default on webgpu: every 100 steps). */
  recovery?: false | RecoveryOptions;
  /** Called after a failover with what happened. */
  onRecover?: (info: RecoveryInfo) => void;
}

export interface GroupOptionsBase {
  params: ParamValues;
  shapes?: Record<string, number[]>;
  /** Frozen parameters get no noise, no decay and no update. */
  frozen?: boolean;
}

export type NonFinitePolicy = 'error' | 'skip';

export interface SampledParamsOptions {
  /** true: the block's gradients count toward the next step. false: a draw for prediction only. */
  train?: boolean;
  /** Test hook (IVON only): use this ε per trainable parameter instead of the RNG. */
  epsilon?: Record<string, Float32Array>;
  /**
   * true (default): ctx.theta / ctx.grad work on every backend — zero-copy views on the CPU, and
   * on webgpu copies (θ read back before fn, the gradients uploaded after it). false: on webgpu the
   * block binds GPU buffers only (ctx.thetaBinding / ctx.gradBinding) and nothing is read back.
   */
  cpuViews?: boolean;
}

export interface StepResult {
  /** True when the step was skipped because a gradient was non-finite (nonFinite: 'skip'). */
  skipped: boolean;
  /** The step count t after this call. */
  step: number;
}

/** Group hyper-parameters common to all optimizers. */
export interface GroupHyperBase {
  lr: number;
  frozen: boolean;
}

export { MAX_STEPS } from './counters.js';

/** Which state tensor of a snapshot each arena role holds. */
export type StateRoles = ReadonlyArray<readonly [Role, Exclude<keyof TensorState, 'shape'>]>;

export abstract class Optimizer<Hyper extends GroupHyperBase> {
  abstract readonly kind: OptimizerKind;
  readonly layout: Layout;
  protected backend: Backend;
  protected arena: Arena;
  private readonly recovery: RecoveryPolicy;
  private lastSnapshot: OptimizerSnapshot | undefined;
  private snapshotInFlight: Promise<void> | undefined;
  /** Backend failovers so far (device loss), oldest first. */
  readonly recoveries: RecoveryInfo[] = [];
  protected readonly hyper: Hyper[];
  protected nonFinite: NonFinitePolicy;
  protected step_ = 0;
  protected skipped = 0;
  /** Train blocks accumulated since the last step. */
  protected samples = 0;
  /** A non-finite gradient was seen under nonFinite: 'skip'; the next step() is skipped. */
  protected poisoned = false;
  private inBlock = false;
  /** A block's callback is running: calls now cannot wait for the block they would be part of. */
  private inCallback = false;
  private disposed = false;
  /** The tail of the per-optimizer FIFO every public async call joins. */
  private queue: Promise<unknown> = Promise.resolve();
  private disposing: Promise<void> | undefined;
  /** With recovery on and no snapshot kept yet: the initial weights and hyper-parameters (host copies). */
  private initial: { means: Map<string, Float32Array>; hyper: Hyper[] } | undefined;
  /** CPU copies for ctx.theta / ctx.grad on a backend without views (made on first need). */
  private staging: CpuStaging | undefined;

  protected constructor(
    readonly runtime: Runtime,
    where: string,
    options: Record<string, unknown>,
    globalKeys: readonly string[],
    groupKeys: readonly string[],
    roles: readonly Role[],
    parseGroup: (where: string, raw: Record<string, unknown>) => Hyper,
  ) {
    if (options === null || typeof options !== 'object') throw new ConfigError(`${where}: options must be an object`);
    if (!runtime || typeof runtime !== 'object' || !runtime.compute) {
      throw new ConfigError(`${where}: the first argument must be a runtime from createRuntime()`);
    }
    const shorthand = 'params' in options;
    if (shorthand && 'groups' in options) throw new ConfigError(`${where}: give either params (one group) or groups, not both`);
    if (!shorthand && !Array.isArray(options.groups)) {
      throw new ConfigError(`${where}: give params: { name: Float32Array } or groups: [{ params, ... }]`);
    }
    globalKeys = [...globalKeys, 'recovery', 'onRecover'];
    check.knownKeys(where, options, [...globalKeys, ...groupKeys, ...(shorthand ? ['params', 'shapes', 'frozen'] : ['groups'])]);
    const rawGroups: Record<string, unknown>[] = shorthand
      ? [Object.fromEntries(Object.entries(options).filter(([k]) => !globalKeys.includes(k)))]
      : (options.groups as Record<string, unknown>[]);
    if (rawGroups.length === 0) throw new ConfigError(`${where}: groups is empty`);
    const seen = new Set<string>();
    const groupParams: GroupParams[] = [];
    const hyper: Hyper[] = [];
    rawGroups.forEach((raw, i) => {
      const at = shorthand ? where : `${where} groups[${i}]`;
      if (raw === null || typeof raw !== 'object') throw new ConfigError(`${at}: each group must be an object`);
      // Group-level values fall back to the optimizer-wide ones (PyTorch's defaults dict).
      const merged: Record<string, unknown> = {};
      for (const key of groupKeys) if (key in options) merged[key] = options[key];
      Object.assign(merged, raw);
      check.knownKeys(at, raw, [...groupKeys, 'params', 'shapes', 'frozen']);
      const { values, shapes } = checkGroupParams(at, raw.params, raw.shapes, seen);
      const frozen = raw.frozen === undefined ? false : check.boolean(at, 'frozen', raw.frozen);
      hyper.push(parseGroup(at, merged));
      groupParams.push({ values, shapes, frozen });
    });
    this.nonFinite = options.nonFinite === undefined ? 'error' : check.oneOf(where, 'nonFinite', options.nonFinite, ['error', 'skip'] as const);
    this.recovery = parseRecovery(where, options.recovery, options.onRecover, runtime.compute.kind);
    this.hyper = hyper;
    this.hyper.forEach((h, i) => (h.frozen = groupParams[i].frozen));
    this.layout = buildLayout(groupParams);
    this.backend = runtime.compute;
    this.arena = this.backend.createArena(this.layout.length, roles);
    const means = new Map<string, Float32Array>();
    for (const group of groupParams) {
      for (const [name, values] of Object.entries(group.values)) {
        this.backend.write(this.arena, 'mean', this.layout.params.get(name)!.start, values);
        means.set(name, Float32Array.from(values));
      }
    }
    // A device lost before the first snapshot still recovers: from the initial state.
    if (this.recovery.snapshotEvery > 0) this.initial = { means, hyper: hyper.map((h) => ({ ...h })) };
  }

  /** Completed steps t. */
  get stepCount(): number {
    return this.step_;
  }

  /** Steps skipped because of non-finite gradients (nonFinite: 'skip'). */
  get skippedSteps(): number {
    return this.skipped;
  }

  get parameterNames(): string[] {
    return [...this.layout.params.keys()];
  }

  get groupCount(): number {
    return this.hyper.length;
  }

  /** A copy of a group's hyper-parameters. */
  groupHyper(group: number): Hyper {
    this.checkGroupIndex('groupHyper', group);
    return { ...this.hyper[group] };
  }

  /** Changes a group's learning rate (schedules); takes effect for the steps that start after it. */
  setLr(group: number, lr: number): void {
    this.assertUsable('setLr');
    this.checkGroupIndex('setLr', group);
    const value = check.nonNegative32('setLr', 'lr', lr);
    this.checkStepSize('setLr', { ...this.hyper[group], lr: value });
    this.hyper[group].lr = value;
  }

  /** Zero-copy view of a parameter's weights (the mean) on CPU backends, for use outside blocks. */
  param(name: string): Float32Array {
    this.assertUsable('param');
    const slot = this.slotOf('param', name);
    const view = this.backend.view(this.arena, 'mean', slot);
    if (!view) throw new UsageError(`param('${name}') has no CPU view on the ${this.backend.kind} backend; use await read('${name}')`);
    return view;
  }

  /**
   * Runs `fn` on one sample of the weights. In a train block the callback writes every trainable
   * parameter's gradient (of the minibatch-mean loss at θ); its result is returned. If `fn` throws,
   * nothing is accumulated and the weights are untouched.
   */
  async sampledParams<R>(fn: (ctx: SampleContext) => R | Promise<R>, options: SampledParamsOptions = {}): Promise<R> {
    if (typeof fn !== 'function') throw new UsageError('sampledParams: the first argument must be a function (ctx) => loss');
    if (options === null || typeof options !== 'object') throw new UsageError('sampledParams: options must be an object');
    check.knownKeys('sampledParams', options, ['train', 'epsilon', 'cpuViews']);
    const train = options.train === undefined ? true : check.boolean('sampledParams', 'train', options.train);
    const cpuViews = options.cpuViews === undefined ? true : check.boolean('sampledParams', 'cpuViews', options.cpuViews);
    return this.exclusive('sampledParams', async () => {
      this.checkBlockStart(train, options);
      this.inBlock = true;
      try {
        return await this.failingOver(() => this.runBlock(fn, train, cpuViews, options));
      } finally {
        this.inBlock = false;
      }
    });
  }

  private async runBlock<R>(fn: (ctx: SampleContext) => R | Promise<R>, train: boolean, cpuViews: boolean, options: SampledParamsOptions): Promise<R> {
    const sampleIndex = await this.beforeBlock(train, options);
    const staging = cpuViews ? await this.stagedTheta() : undefined;
    const ctx = new SampleContext(this.backend, this.arena, this.layout, (slot) => this.thetaRole(slot), train, sampleIndex, staging);
    let result: R;
    this.inCallback = true;
    try {
      result = await fn(ctx);
    } catch (error) {
      staging?.discard();
      throw error;
    } finally {
      this.inCallback = false;
      ctx.close();
    }
    ctx.checkViewsAttached();
    staging?.upload(this.arena);
    if (train) {
      this.checkProvided(ctx.provided);
      if (await this.gradientsAreFinite()) await this.accumulate();
    }
    this.afterBlock(train);
    return result;
  }

  /** On a backend without CPU views: θ of this block copied to the CPU (cpu-staging.ts); else undefined. */
  private async stagedTheta(): Promise<CpuStaging | undefined> {
    const first = this.layout.params.values().next().value;
    if (!first || this.backend.view(this.arena, 'mean', first)) return undefined;
    this.staging ??= new CpuStaging(this.backend, this.layout);
    await this.staging.stageTheta(this.arena, (slot) => this.thetaRole(slot));
    return this.staging;
  }

  /** Applies the update from the train blocks since the last step. */
  async step(): Promise<StepResult> {
    return this.exclusive('step', () => this.stepNow());
  }

  private async stepNow(): Promise<StepResult> {
    if (this.samples === 0 && !this.poisoned) {
      throw new UsageError('step() needs at least one sampledParams(fn, { train: true }) block since the last step; nothing was changed');
    }
    if (this.step_ + this.skipped >= MAX_STEPS) {
      throw new UsageError(
        `step(): the step counter is at its limit (${this.step_} steps + ${this.skipped} skipped; at most ${MAX_STEPS}: the RNG counter's step word is 32 bits); nothing was changed. Restore an earlier snapshot or start a new optimizer.`,
      );
    }
    if (this.poisoned) {
      this.poisoned = false;
      this.samples = 0;
      this.skipped += 1;
      this.discardSamples();
      return { skipped: true, step: this.step_ };
    }
    await this.failingOver(() =>
      this.transaction(this.stepWrites(), async () => {
        this.applyUpdate(this.step_ + 1);
        await this.backend.flush();
      }),
    );
    this.discardSamples();
    this.afterUpdate();
    this.step_ += 1;
    this.samples = 0;
    if (this.recovery.snapshotEvery > 0 && this.step_ % this.recovery.snapshotEvery === 0) this.snapshotInBackground();
    return { skipped: false, step: this.step_ };
  }

  /** Takes a recovery snapshot now (on demand); resolves when it is held. */
  async keepSnapshot(): Promise<void> {
    return this.exclusive('keepSnapshot', () =>
      this.failingOver(async () => {
        this.keep(await this.snapshotNow());
      }),
    );
  }

  /**
   * Runs one public async call after every call made before it on this optimizer (a FIFO), so
   * overlapping calls act exactly as if each had been awaited in turn. Refused at once after
   * dispose(), and while a block's callback runs: such a call would wait for the block it is
   * part of (a nested call), and one from other code cannot be told apart from it. A subclass's
   * own public async method (one that reads or changes state) must run through this too, and its
   * work must call the *Now methods (snapshotNow, restoreNow), never the public ones: a queued
   * call waiting for the queue it is in never runs.
   */
  protected exclusive<T>(method: string, work: () => Promise<T>): Promise<T> {
    try {
      this.assertUsable(method);
      this.assertOutsideCallback(method);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOutsideCallback(method: string): void {
    if (this.inCallback) {
      throw new UsageError(
        `${method}() was called inside a sampled block (its callback is still running)${method === 'sampledParams' ? ': blocks cannot be nested' : ''}; it would have to wait for that block to finish. Call it after the block's promise has resolved (nothing was changed).`,
      );
    }
  }

  /**
   * Runs `work` — kernels over several groups, then a flush — as one transaction. On a backend
   * where a kernel can fail after other groups' kernels committed (Backend.failsMidStep: the
   * worker pool) the trainable ranges of `roles` are copied first and put back if it fails, so
   * the state is exactly as before and a retry rejoins the clean run. Nothing is copied with one
   * trainable group (its one in-place kernel call is undone by the pool itself, shard by shard),
   * nor elsewhere: the single-thread CPU backends do not fail mid-step, and a lost GPU device
   * loses every buffer (recovery restores a snapshot instead).
   */
  protected async transaction<T>(roles: readonly Role[], work: () => Promise<T>): Promise<T> {
    const ranges: Range[] = this.layout.groups.filter((g) => !g.frozen).map((g) => g.range);
    if (!this.backend.failsMidStep || roles.length === 0 || ranges.length < 2) return work();
    const saved = await Promise.all(
      roles.flatMap((role) => ranges.map(async (range) => ({ role, start: range.start, data: await this.backend.read(this.arena, role, range) }))),
    );
    try {
      return await work();
    } catch (error) {
      try {
        for (const s of saved) this.backend.write(this.arena, s.role, s.start, s.data);
        await this.backend.flush();
      } catch (rollback) {
        throw new AggregateError(
          [error, rollback],
          `${(error as Error).message} — and putting the previous state back failed too (${(rollback as Error).message}): the optimizer state is undefined; restore a snapshot.`,
        );
      }
      throw error;
    }
  }

  /**
   * Retakes a held recovery snapshot after state changed outside step() (IVON's setPrior), so a
   * failover does not return to the state before the change.
   */
  protected async refreshRecoverySnapshot(): Promise<void> {
    await this.snapshotInFlight;
    if (this.recovery.snapshotEvery > 0) this.keep(await this.snapshotNow());
  }

  /** The backend this optimizer runs on now (it changes after a device-loss failover). */
  get currentBackend(): Backend {
    return this.backend;
  }

  private snapshotInBackground(): void {
    if (this.snapshotInFlight) return; // one at a time; the next due step takes the next one
    // Its reads are enqueued now, behind this step and before any later call's kernels.
    this.snapshotInFlight = this.snapshotNow()
      .then((snap) => {
        if (!this.disposed) this.keep(snap);
      })
      .catch(() => {
        // A snapshot that fails (device lost meanwhile) keeps the previous one.
      })
      .finally(() => {
        this.snapshotInFlight = undefined;
      });
  }

  /**
   * Runs backend work; on device loss moves the optimizer to a replacement backend, restores the
   * last snapshot there and rejects with RecoveredError saying what happened.
   */
  protected async failingOver<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isDeviceLoss(error) || this.recovery.snapshotEvery === 0) throw error;
      const snapshot = this.lastSnapshot ?? this.initialSnapshot();
      if (!snapshot) throw error;
      await this.failOver(error as Error, snapshot);
      throw new RecoveredError(this.recoveries[this.recoveries.length - 1], error as Error);
    }
  }

  /** Holds `snap` as the recovery point (the initial state's host copies are no longer needed). */
  protected keep(snap: OptimizerSnapshot): void {
    this.lastSnapshot = snap;
    this.initial = undefined;
  }

  /** The state at construction, from host copies (recovery before any snapshot was kept). */
  private initialSnapshot(): OptimizerSnapshot | undefined {
    if (!this.initial) return undefined;
    const tensors: Record<string, TensorState> = Object.create(null);
    for (const [name, slot] of this.layout.params) {
      const state: TensorState = { shape: [...slot.shape], mean: Float32Array.from(this.initial.means.get(name)!) };
      for (const [role, key] of this.stateRoles()) {
        if (role !== 'mean') state[key] = new Float32Array(slot.count).fill(this.initialValue(role, this.initial.hyper[slot.group]));
      }
      Object.assign(state, this.initialOptionalTensors(slot));
      tensors[name] = state;
    }
    return {
      kind: this.kind,
      step: 0,
      skippedSteps: 0,
      options: this.globalOptions(),
      rng: { ...this.rngState(), predictDraws: 0 },
      groups: this.layout.groups.map((g, i) => ({ params: [...g.params], hyper: { ...this.initial!.hyper[i] } as unknown as Record<string, number | boolean> })),
      tensors,
    };
  }

  private async failOver(cause: Error, snapshot: OptimizerSnapshot): Promise<void> {
    const from = this.backend.kind;
    const lostAtStep = this.step_;
    const next = await this.recovery.replace();
    this.backend = next;
    this.staging = undefined;
    this.arena = next.createArena(this.layout.length, this.arena.roles);
    this.initRoles();
    this.inBlock = false;
    await this.restoreNow(snapshot);
    const info: RecoveryInfo = {
      from,
      to: next.kind,
      description: next.description,
      lostAtStep,
      restoredStep: snapshot.step,
      cause: cause.message,
    };
    this.recoveries.push(info);
    this.recovery.onRecover?.(info);
  }

  /**
   * Copies of a parameter's state tensors (any backend). Queued behind earlier calls like every
   * async method; inside a block's callback it reads at once (a block changes none of them).
   */
  async readTensors(name: string): Promise<TensorState> {
    this.assertUsable('readTensors');
    const slot = this.slotOf('readTensors', name);
    const read = () => this.failingOver(() => this.readTensorsNow(slot));
    return this.inCallback ? read() : this.exclusive('readTensors', read);
  }

  private async readTensorsNow(slot: ParamSlot): Promise<TensorState> {
    await this.backend.flush();
    const state: TensorState = { shape: [...slot.shape], mean: new Float32Array(0) };
    for (const [role, key] of this.snapshotRoles()) state[key] = await this.backend.read(this.arena, role, slot);
    return state;
  }

  /** The complete state for an exact resume. */
  async snapshot(): Promise<OptimizerSnapshot> {
    return this.exclusive('snapshot', () => this.failingOver(() => this.snapshotNow()));
  }

  protected async snapshotNow(): Promise<OptimizerSnapshot> {
    // Every read is enqueued before any is awaited, so on queued backends (GPU, workers) the
    // snapshot is of one consistent step even while later steps are being enqueued.
    const pending: Promise<void>[] = [];
    const tensors: Record<string, TensorState> = Object.create(null);
    for (const [name, slot] of this.layout.params) {
      const state: TensorState = { shape: [...slot.shape], mean: new Float32Array(0) };
      tensors[name] = state;
      for (const [role, key] of this.snapshotRoles()) {
        pending.push(this.backend.read(this.arena, role, slot).then((data) => void (state[key] = data)));
      }
    }
    const groups: GroupState[] = this.layout.groups.map((g, i) => ({ params: [...g.params], hyper: { ...this.hyper[i] } as unknown as Record<string, number | boolean> }));
    const snapshot: OptimizerSnapshot = {
      kind: this.kind,
      step: this.step_,
      skippedSteps: this.skipped,
      options: this.globalOptions(),
      rng: this.rngState(),
      groups,
      tensors,
    };
    await Promise.all(pending);
    return snapshot;
  }

  /** Replaces the whole state with a snapshot of an optimizer with the same parameters. */
  async restore(snapshot: OptimizerSnapshot): Promise<void> {
    return this.exclusive('restore', () => this.failingOver(() => this.restoreNow(snapshot)));
  }

  protected async restoreNow(snapshot: OptimizerSnapshot): Promise<void> {
    this.checkSnapshot(snapshot);
    const hyper = snapshot.groups.map((g, i) => this.parseRestoredGroup(`restore groups[${i}]`, g.hyper));
    const applyGlobals = this.parseRestoredGlobals(snapshot);
    // Everything is validated; from here on nothing throws.
    for (const [name, slot] of this.layout.params) {
      for (const [role, key] of this.stateRoles()) this.backend.write(this.arena, role, slot.start, snapshot.tensors[name][key]!);
      for (const [role, key] of this.optionalStateRoles()) {
        const data = snapshot.tensors[name][key];
        if (data) this.backend.write(this.arena, role, slot.start, data);
      }
    }
    hyper.forEach((h, i) => (this.hyper[i] = { ...h, frozen: this.layout.groups[i].frozen }));
    applyGlobals();
    this.step_ = snapshot.step;
    this.skipped = snapshot.skippedSteps;
    this.samples = 0;
    this.poisoned = false;
    this.discardSamples();
    await this.backend.flush();
    // A restored state is a state recovery can return to (a copy: the caller may reuse its arrays).
    if (this.recovery.snapshotEvery > 0) this.keep(copySnapshot(snapshot));
  }

  /** The complete state as checkpoint bytes (safetensors layout, src/checkpoint). */
  async saveState(): Promise<Uint8Array> {
    return encodeCheckpoint(await this.exclusive('saveState', () => this.failingOver(() => this.snapshotNow())));
  }

  /**
   * Restores from checkpoint bytes. The file is validated completely (and against this
   * optimizer's kind, parameters, shapes and groups) before any state changes.
   */
  async loadState(bytes: Uint8Array, options: { maxBytes?: number } = {}): Promise<void> {
    this.assertUsable('loadState');
    this.assertOutsideCallback('loadState');
    const snapshot = decodeCheckpoint(bytes, { maxBytes: options.maxBytes, expect: this.checkpointExpectation() });
    // The decoder already refuses whatever restore() would; should a rule slip through, a file's
    // content still surfaces as a CheckpointError, never a ConfigError.
    await this.restore(snapshot).catch((e: unknown) => {
      if (e instanceof ConfigError) throw new CheckpointError(`the checkpoint does not fit this optimizer (${e.message})`, 'Load a checkpoint saved by an optimizer with the same settings');
      throw e;
    });
  }

  /** What a checkpoint must match to be loaded into this optimizer. */
  checkpointExpectation(): CheckpointExpectation {
    const shapes: Record<string, readonly number[]> = Object.create(null);
    for (const [name, slot] of this.layout.params) shapes[name] = slot.shape;
    return { kind: this.kind, shapes, groups: this.layout.groups.map((g) => g.params) };
  }

  /**
   * Frees the backend memory. From this call on every method is a UsageError; calls made before
   * it still run (in order), and the memory is freed once they and the kernels they enqueued are
   * done, so nothing writes into memory another optimizer may get. Resolves when it is freed.
   */
  dispose(): Promise<void> {
    if (this.disposing) return this.disposing;
    try {
      this.assertOutsideCallback('dispose');
    } catch (error) {
      return Promise.reject(error);
    }
    this.disposed = true;
    this.disposing = this.queue.then(async () => {
      await this.snapshotInFlight;
      try {
        await this.backend.flush();
        this.backend.destroyArena(this.arena);
      } catch {
        // The backend was disposed (its memory with it) or its device was lost: nothing left to free.
      }
      this.lastSnapshot = undefined;
      this.initial = undefined;
    });
    return this.disposing;
  }

  // ---- hooks for the subclasses ----

  /** Runs once an update has completed (IVON: θ may already hold the next step's first sample). */
  protected afterUpdate(): void {}

  /** Fills the role buffers that do not come from a snapshot (e.g. IVON's padding curvature). */
  protected initRoles(): void {}

  /** Optional state (optionalStateRoles) at construction, for the initial recovery snapshot. */
  protected initialOptionalTensors(_slot: ParamSlot): Partial<TensorState> {
    return {};
  }

  /** A state role's value at construction (IVON: hess = hessInit); 0 unless overridden. */
  protected initialValue(_role: Role, _hyper: Hyper): number {
    return 0;
  }

  /** Roles step() changes in place (put back if it fails on the pool): the state roles by default. */
  protected stepWrites(): Role[] {
    return this.stateRoles().map(([role]) => role);
  }

  /** Runs once a block has completed without error (IVON: a prediction draw is counted). */
  protected afterBlock(_train: boolean): void {}

  /** Checks the rescaled step size the kernels get is finite in float32 (constructor, setLr, restore). */
  protected checkStepSize(_where: string, _hyper: Hyper): void {}

  /** Roles holding snapshot state, and their snapshot names. */
  protected abstract stateRoles(): StateRoles;
  /**
   * State a snapshot carries only when the optimizer has it (IVON's per-element prior): written
   * by snapshot() when present, restored when the snapshot has it (checked like stateRoles);
   * parseRestoredGlobals handles its absence.
   */
  protected optionalStateRoles(): StateRoles {
    return [];
  }

  private snapshotRoles(): StateRoles {
    return [...this.stateRoles(), ...this.optionalStateRoles()];
  }
  /** Role the model reads for a parameter inside a block. */
  protected abstract thetaRole(slot: ParamSlot): Role;
  /** Validation that depends on the optimizer (e.g. AdamW allows one train block per step). */
  protected abstract checkBlockStart(train: boolean, options: SampledParamsOptions): void;
  /** Prepares the weights the block sees; returns the block's sample index. */
  protected abstract beforeBlock(train: boolean, options: SampledParamsOptions): Promise<number>;
  /** Folds the block's (valid, finite) gradients into the step. */
  protected abstract accumulate(): Promise<void>;
  /** Enqueues the update kernels for step number `t` (1-based). */
  protected abstract applyUpdate(t: number): void;
  /** Forgets the accumulated samples (skipped step or restore). */
  protected abstract discardSamples(): void;
  protected abstract globalOptions(): Record<string, number | boolean | string>;
  protected abstract rngState(): { seed: number; predictDraws: number };
  protected abstract parseRestoredGroup(where: string, hyper: Record<string, unknown>): Hyper;
  /** Validates the snapshot's global options; returns a function that applies them. */
  protected abstract parseRestoredGlobals(snapshot: OptimizerSnapshot): () => void;

  // ---- shared checks ----

  protected assertUsable(method: string): void {
    if (this.disposed) throw new UsageError(`${method}: this optimizer was disposed`);
  }

  protected slotOf(method: string, name: string): ParamSlot {
    const slot = this.layout.params.get(name);
    if (!slot) throw new UsageError(`${method}('${name}'): unknown parameter; known parameters are ${this.parameterNames.join(', ')}`);
    return slot;
  }

  protected trainableSlots(): ParamSlot[] {
    return [...this.layout.params.values()].filter((s) => !this.layout.groups[s.group].frozen);
  }

  private checkGroupIndex(method: string, group: number): void {
    if (!Number.isInteger(group) || group < 0 || group >= this.hyper.length) {
      throw new UsageError(`${method}: group index must be an integer in [0, ${this.hyper.length - 1}], got ${group}`);
    }
  }

  private checkProvided(provided: Set<string>): void {
    const missing = this.trainableSlots().filter((s) => !provided.has(s.name)).map((s) => s.name);
    if (missing.length > 0) {
      throw new UsageError(
        `sampledParams: no gradient was provided for trainable parameter(s) ${missing.map((m) => `'${m}'`).join(', ')}; write ctx.grad(name) or call ctx.setGrad(name, values) for each, or mark the group frozen. Nothing was accumulated.`,
      );
    }
  }

  /** Applies the non-finite policy; returns true when the gradients may be accumulated. */
  private async gradientsAreFinite(): Promise<boolean> {
    let bad = 0;
    for (const group of this.layout.groups) {
      if (!group.frozen) bad += await this.backend.countNonFinite(this.arena, 'grad', group.range);
    }
    if (bad === 0) return true;
    const counts: Record<string, number> = {};
    for (const slot of this.trainableSlots()) {
      const n = await this.backend.countNonFinite(this.arena, 'grad', slot);
      if (n > 0) counts[slot.name] = n;
    }
    if (this.nonFinite === 'skip') {
      this.poisoned = true;
      return false;
    }
    const list = Object.entries(counts).map(([name, n]) => `'${name}' (${n} entries)`).join(', ');
    throw new NonFiniteGradientError(
      `sampledParams: non-finite gradient in ${list}; nothing was accumulated and the optimizer state is unchanged. Lower the learning rate, check the loss for log(0) or overflow, or pass nonFinite: 'skip' to skip such steps.`,
      counts,
    );
  }

  private checkSnapshot(s: OptimizerSnapshot): void {
    const where = 'restore';
    if (!s || typeof s !== 'object') throw new ConfigError(`${where}: expected an OptimizerSnapshot object`);
    if (s.kind !== this.kind) throw new ConfigError(`${where}: the snapshot is of a ${s.kind} optimizer, this one is ${this.kind}`);
    const steps = `an integer in [0, ${MAX_STEPS}] (the RNG counter's step word is 32 bits)`;
    check.checkFinite(where, 'step', s.step, (v) => Number.isInteger(v) && v >= 0 && v <= MAX_STEPS, steps);
    check.checkFinite(where, 'skippedSteps', s.skippedSteps, (v) => Number.isInteger(v) && v >= 0 && v + s.step <= MAX_STEPS, `an integer ≥ 0 with step + skippedSteps ≤ ${MAX_STEPS}`);
    if (!Array.isArray(s.groups) || s.groups.length !== this.layout.groups.length) {
      throw new ConfigError(`${where}: the snapshot has ${Array.isArray(s.groups) ? s.groups.length : 'no'} groups, this optimizer has ${this.layout.groups.length}`);
    }
    s.groups.forEach((g, i) => {
      const mine = this.layout.groups[i].params;
      if (!Array.isArray(g.params) || g.params.join('\u0000') !== mine.join('\u0000')) {
        throw new ConfigError(`${where}: group ${i} holds [${g.params}] in the snapshot but [${mine.join(', ')}] here`);
      }
    });
    if (!s.tensors || typeof s.tensors !== 'object') throw new ConfigError(`${where}: the snapshot has no tensors object`);
    for (const [name, slot] of this.layout.params) {
      const t = Object.hasOwn(s.tensors, name) ? s.tensors[name] : undefined;
      if (!t) throw new ConfigError(`${where}: the snapshot has no tensors for parameter '${name}'`);
      for (const [, key] of this.snapshotRoles()) {
        const data = t[key];
        if (data === undefined && this.optionalStateRoles().some(([, optional]) => optional === key)) continue;
        if (!(data instanceof Float32Array) || data.length !== slot.count) {
          throw new ConfigError(`${where}: '${name}.${key}' must be a Float32Array of ${slot.count} elements`);
        }
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i])) throw new ConfigError(`${where}: '${name}.${key}' has a non-finite value at index ${i}`);
        }
      }
    }
    const extra = Object.keys(s.tensors).filter((n) => !this.layout.params.has(n));
    if (extra.length > 0) throw new ConfigError(`${where}: the snapshot has unknown parameter(s) ${extra.join(', ')}`);
  }
}

/** A deep copy of a snapshot's tensors (the rest is plain data). */
function copySnapshot(s: OptimizerSnapshot): OptimizerSnapshot {
  const tensors: Record<string, TensorState> = Object.create(null);
  for (const [name, t] of Object.entries(s.tensors)) {
    const copy: TensorState = { shape: [...t.shape], mean: Float32Array.from(t.mean) };
    for (const key of ['hess', 'momentum', 'expAvgSq', 'priorMean', 'priorPrecision'] as const) if (t[key]) copy[key] = Float32Array.from(t[key]!);
    tensors[name] = copy;
  }
  return { ...s, options: { ...s.options }, rng: { ...s.rng }, groups: s.groups.map((g) => ({ params: [...g.params], hyper: { ...g.hyper } })), tensors };
}

export { RecoveredError, type RecoveryInfo, type RecoveryOptions } from './recovery.js';
