// The one interface every compute backend implements (js, wasm, webgpu, and the worker-sharded
// wasm pool). Optimizers and the model toolkit talk only to this: they never know where the
// numbers live. An Arena is a set of same-length float32 buffers, one per role, so a parameter
// occupies the same [start, start+count) range in every role buffer and a kernel needs one range.

export type BackendKind = 'js' | 'wasm' | 'webgpu';

/** Buffers an optimizer may ask for. Each holds one float32 per parameter element. */
export type Role =
  | 'mean' // the weights (IVON's m; AdamW/SGD's parameters)
  | 'hess' // IVON curvature h
  | 'momentum' // IVON/SGD momentum, AdamW exp_avg
  | 'expAvgSq' // AdamW second moment
  | 'theta' // IVON sampled weights θ = m + n, read by the model inside a sampled block
  | 'grad' // the model's gradient for the current sample
  | 'noise' // IVON noise n = σ ⊙ ε of the current sample
  | 'gradMean' // running mean of gradients over the samples of a step
  | 'curvMean' // running mean of n ⊙ g ('price') or g² ('gradsq')
  // Standard normals z drawn ahead for a coming train sample (drawEpsilon), so the step that
  // needs them only reads them; allocated only when an optimizer draws noise ahead.
  | 'epsilon'
  // IVON's per-element prior N(μ₀, 1/(ess·δ)), allocated only when an optimizer has one. An arena
  // with these roles makes the IVON kernels read δ_j and μ_j from them instead of the scalar
  // weightDecay and 0.
  | 'priorMean' // μ₀: the mean the weight decay pulls toward
  | 'priorPrecision'; // δ_j: the per-element prior precision (weight decay)

/** A half-open element range shared by every role buffer of an arena. */
export interface Range {
  readonly start: number;
  readonly count: number;
}

export interface Arena {
  readonly length: number;
  readonly roles: readonly Role[];
}

/** A byte range of a GPU buffer (structurally a GPUBufferBinding). */
export interface BufferBinding {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
}

export type HessApprox = 'price' | 'gradsq';

/**
 * Where the one-pass step (ivonUpdateFusedAndSample) gets the next sample's z: 'draw' computes it
 * from the counter (0, step + 1, 0); 'epsilon' reads it from the arena's 'epsilon' role, where
 * drawEpsilon (or a background draw) put the same bits earlier.
 */
export type NextNoise = 'draw' | 'epsilon';

/** drawEpsilon running off the calling thread (Backend.drawEpsilonAhead). */
export interface BackgroundDraw {
  /**
   * Makes the values complete, on the calling thread if need be (whatever the worker has not drawn
   * yet, the same bits), without waiting for the worker. Call before enqueueing kernels that read them.
   */
  finish(): void;
  /** The values will not be used: the worker stops early. */
  cancel(): void;
}

export interface SampleArgs {
  sample: number;
  step: number;
  stream: number;
  seedLo: number;
  seedHi: number;
  ess: number;
  weightDecay: number;
}

/** Per-group scalars of the IVON update; the host computes them in float64. */
export interface IvonUpdateArgs {
  hessApprox: HessApprox;
  ess: number;
  weightDecay: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  curvCoef: number;
  /** 1 / (1 − β₁ᵗ) (or 1 without debiasing): a multiply in the kernels, not a divide. */
  invDebias: number;
  alpha: number;
  clipRadius: number;
}

export interface AdamwUpdateArgs {
  stepSize: number;
  decayFactor: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  eps: number;
  invBiasCorrection2Sqrt: number;
}

export interface SgdUpdateArgs {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/**
 * Kernels are enqueued (they return nothing); `flush()` resolves once everything enqueued has
 * finished. Synchronous backends finish inside the call; the GPU and the worker pool do not.
 * Ranges passed to kernels start at a multiple of 16 elements (the layout guarantees it).
 */
export interface Backend {
  readonly kind: BackendKind;
  /** Human-readable details (adapter, workers, SIMD) for explain() and benchmarks. */
  readonly description: string;

  createArena(length: number, roles: readonly Role[]): Arena;
  destroyArena(arena: Arena): void;

  /** Zero-copy view on CPU backends; undefined on the GPU (use read/write). Views are
   *  short-lived: take a fresh one each time, since a growing WASM memory detaches old ones. */
  view(arena: Arena, role: Role, range: Range): Float32Array | undefined;
  /** GPU backends: where a role's range lives, for models that bind it directly (bytes). */
  binding?(arena: Arena, role: Role, range: Range): BufferBinding;
  write(arena: Arena, role: Role, start: number, data: Float32Array): void;
  read(arena: Arena, role: Role, range: Range): Promise<Float32Array>;
  fill(arena: Arena, role: Role, range: Range, value: number): void;
  copy(arena: Arena, dst: Role, src: Role, range: Range): void;
  countNonFinite(arena: Arena, role: Role, range: Range): Promise<number>;

  // With 'priorMean'/'priorPrecision' roles in the arena (a per-element prior), every kernel
  // below that uses δ reads δ_j (and the updates μ_j) from them (docs/KERNELS.md §2.1).
  ivonSample(arena: Arena, range: Range, args: SampleArgs): void;
  /** θ = m + σ⊙z without storing the noise (the update or a prediction regenerates it). */
  ivonDraw(arena: Arena, range: Range, args: SampleArgs): void;
  ivonSampleGiven(arena: Arena, range: Range, ess: number, weightDecay: number): void;
  ivonAccumulate(arena: Arena, range: Range, sampleCount: number, hessApprox: HessApprox): void;
  ivonUpdate(arena: Arena, range: Range, args: IvonUpdateArgs): void;
  ivonUpdateFused(arena: Arena, range: Range, args: IvonUpdateArgs): void;
  /** ivonUpdateFused with the noise regenerated from `sample`'s counter instead of read. */
  ivonUpdateRedraw(arena: Arena, range: Range, sample: SampleArgs, args: IvonUpdateArgs): void;
  /**
   * ivonUpdateRedraw, then θ = the next step's first sample (counter (0, sample.step + 1, 0)) from
   * the new mean and hess: a whole IVON step in one pass where compute is cheap.
   */
  ivonUpdateAndDraw(arena: Arena, range: Range, sample: SampleArgs, args: IvonUpdateArgs): void;
  /**
   * ivonUpdateFused, then the next step's first sample (counter (0, sample.step + 1, 0)) into noise
   * and θ: a whole IVON step in one pass with the noise stored.
   */
  ivonUpdateFusedAndSample(arena: Arena, range: Range, sample: SampleArgs, args: IvonUpdateArgs, next?: NextNoise): void;
  /** epsilon = z(first + i) under the counter of `sample` (docs/KERNELS.md §1): noise drawn ahead of the step that uses it. */
  drawEpsilon(arena: Arena, range: Range, sample: SampleArgs): void;
  /**
   * drawEpsilon over `ranges`, started on an idle worker while the calling thread goes on (the
   * model's forward and backward), returning at once; undefined when no worker is free for it
   * (then draw in the step as usual). Only the worker pool has it; nothing may be enqueued that
   * reads the ranges' epsilon before finish().
   */
  drawEpsilonAhead?(arena: Arena, ranges: readonly Range[], sample: SampleArgs): BackgroundDraw | undefined;
  /** Whether this backend prefers regenerating noise to storing it (bandwidth vs compute). */
  readonly prefersRedraw: boolean;
  /**
   * True where one kernel call can fail after earlier calls of the same step committed (the worker
   * pool: a worker crashes or times out). Optimizers then copy what a step writes first and put it
   * back on failure. Absent or false: a failure changes nothing (or, on a lost GPU, everything).
   */
  readonly failsMidStep?: boolean;
  adamwUpdate(arena: Arena, range: Range, args: AdamwUpdateArgs): void;
  sgdUpdate(arena: Arena, range: Range, args: SgdUpdateArgs): void;

  /** The raw Philox stream (4 uint32 per block), for cross-backend bit-identity checks. */
  randomBits(firstBlock: number, blocks: number, c1: number, c2: number, c3: number, k0: number, k1: number): Promise<Uint32Array>;
  /** z(first .. first+count-1) of docs/KERNELS.md §1. */
  randomNormals(first: number, count: number, sample: number, step: number, stream: number, seedLo: number, seedHi: number): Promise<Float32Array>;

  flush(): Promise<void>;
  dispose(): Promise<void>;
}
