// A float64 IVON written straight from IVON.md §2, independent of the kernels: the oracle the
// golden vectors are checked against and the backends are compared with.
// With a per-element prior (priorMean μ_j, priorPrecision δ_j) δ_j replaces weightDecay in every
// per-element formula and the decay pulls toward μ_j; α = lr·(h₀ + weightDecay) stays scalar.

export interface Ivon64Hyper {
  lr: number;
  ess: number;
  hessInit: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  clipRadius?: number;
  debias?: boolean;
  rescaleLr?: boolean;
  hessApprox?: 'price' | 'gradsq';
  /** μ_j per element (default 0). */
  priorMean?: ArrayLike<number>;
  /** δ_j per element (default weightDecay). */
  priorPrecision?: ArrayLike<number>;
}

export class Ivon64 {
  readonly mean: Float64Array;
  readonly hess: Float64Array;
  readonly momentum: Float64Array;
  t = 0;
  private gradMean: Float64Array;
  private curvMean: Float64Array;
  private k = 0;

  constructor(
    init: ArrayLike<number>,
    readonly h: Ivon64Hyper,
  ) {
    this.mean = Float64Array.from(init);
    this.hess = new Float64Array(init.length).fill(h.hessInit);
    this.momentum = new Float64Array(init.length);
    this.gradMean = new Float64Array(init.length);
    this.curvMean = new Float64Array(init.length);
  }

  /** δ_j of element i. */
  delta(i: number): number {
    return this.h.priorPrecision ? this.h.priorPrecision[i] : this.h.weightDecay;
  }

  /** μ_j of element i. */
  priorMean(i: number): number {
    return this.h.priorMean ? this.h.priorMean[i] : 0;
  }

  sigma(): Float64Array {
    return this.hess.map((x, i) => 1 / Math.sqrt(this.h.ess * (x + this.delta(i))));
  }

  /** One sampled block with the given ε; `grad(theta)` returns the gradient. Returns θ. */
  sample(epsilon: ArrayLike<number>, grad: (theta: Float64Array) => ArrayLike<number>): Float64Array {
    const sigma = this.sigma();
    const noise = sigma.map((s, i) => s * epsilon[i]);
    const theta = this.mean.map((m, i) => m + noise[i]);
    const g = grad(theta);
    this.k += 1;
    for (let i = 0; i < theta.length; i++) {
      this.gradMean[i] += (g[i] - this.gradMean[i]) / this.k;
      const x = this.h.hessApprox === 'gradsq' ? g[i] * g[i] : noise[i] * g[i];
      this.curvMean[i] += (x - this.curvMean[i]) / this.k;
    }
    return theta;
  }

  /** The step-1 intermediate a = mean(n ⊙ g) (price) before it is consumed. */
  curvatureMean(): Float64Array {
    return this.curvMean.slice();
  }

  step(): void {
    const { ess, weightDecay, beta1, beta2, lr, hessInit } = this.h;
    const clip = this.h.clipRadius ?? Infinity;
    this.t += 1;
    const debias = this.h.debias === false ? 1 : 1 - Math.pow(beta1, this.t);
    const alpha = this.h.rescaleLr === false ? lr : lr * (hessInit + weightDecay);
    const c = 0.5 * (1 - beta2) * (1 - beta2);
    for (let i = 0; i < this.mean.length; i++) {
      const h = this.hess[i];
      const wd = this.delta(i);
      const hhat = this.h.hessApprox === 'gradsq' ? ess * this.curvMean[i] : this.curvMean[i] * (h + wd) * ess;
      const g = beta1 * this.momentum[i] + (1 - beta1) * this.gradMean[i];
      const hNew = beta2 * h + (1 - beta2) * hhat + (c * (h - hhat) ** 2) / (h + wd);
      let u = (g / debias + wd * (this.mean[i] - this.priorMean(i))) / (hNew + wd);
      u = Math.min(Math.max(u, -clip), clip);
      this.momentum[i] = g;
      this.hess[i] = hNew;
      this.mean[i] -= alpha * u;
    }
    this.gradMean.fill(0);
    this.curvMean.fill(0);
    this.k = 0;
  }
}
