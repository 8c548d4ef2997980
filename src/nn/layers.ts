// The layers of the model toolkit: a fully connected layer and element-wise activations, as
// plain descriptions (names, shapes, init). They own no weights: weights live in the optimizer's
// buffers and the Network (network.ts) reads them from there at every step.
import type { ActivationKind } from './ops.js';
import { Rng } from './random.js';

export class Linear {
  readonly type = 'linear' as const;
  /** y = x·W + b with W stored [inFeatures, outFeatures] (so the forward product needs no transpose). */
  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly bias = true,
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new Error('Linear: name must be a non-empty string (it prefixes the parameter names)');
    for (const [label, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Linear '${name}': ${label} must be a positive integer, got ${v}`);
    }
  }

  get weightName(): string {
    return `${this.name}.weight`;
  }

  get biasName(): string {
    return `${this.name}.bias`;
  }
}

export class Activation {
  readonly type = 'activation' as const;
  constructor(readonly fn: ActivationKind) {
    if (fn !== 'relu' && fn !== 'gelu' && fn !== 'tanh') throw new Error(`Activation: expected 'relu', 'gelu' or 'tanh', got ${JSON.stringify(fn)}`);
  }
}

export type Layer = Linear | Activation;

export const relu = (): Activation => new Activation('relu');
/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export const gelu = (): Activation => new Activation('gelu');
export const tanh = (): Activation => new Activation('tanh');

/** Gain of the Kaiming/LeCun uniform init for the activation that follows a Linear layer. */
function gain(next: Layer | undefined): number {
  if (!next || next.type !== 'activation') return 1;
  return next.fn === 'tanh' ? 5 / 3 : Math.SQRT2;
}

/**
 * Seeded initial weights: W ~ U(−b, b) with b = gain·√(3 / fanIn) (Kaiming-uniform for ReLU/GELU,
 * gain 5/3 for tanh, 1 for a linear output), biases 0. These arrays are what the optimizer
 * constructor copies into its buffers.
 */
export function initParams(layers: readonly Layer[], seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const params: Record<string, Float32Array> = {};
  layers.forEach((layer, i) => {
    if (layer.type !== 'linear') return;
    const bound = gain(layers[i + 1]) * Math.sqrt(3 / layer.inFeatures);
    const w = new Float32Array(layer.inFeatures * layer.outFeatures);
    for (let j = 0; j < w.length; j++) w[j] = (2 * rng.uniform() - 1) * bound;
    params[layer.weightName] = w;
    if (layer.bias) params[layer.biasName] = new Float32Array(layer.outFeatures);
  });
  return params;
}
