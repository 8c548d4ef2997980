// Gradients of every layer and loss against central finite differences computed in float64:
// the losses directly (float64 in, float64 out), and a network using every layer kind (Linear,
// ReLU, GELU, Tanh) against an independent float64 forward — on the plain-TS and WASM ops.
import { beforeAll, describe, expect, it } from 'vitest';
import { activate, JsOps, type ActivationKind, type NnOps } from '../src/nn/ops.js';
import { wasmOps } from './nn-wasm-ops.js';
import { Linear, gelu, relu, tanh } from '../src/nn/layers.js';
import { Sequential } from '../src/nn/network.js';
import { gaussianNll, meanSquaredError, softmaxCrossEntropy } from '../src/nn/losses.js';
import { Rng } from '../src/nn/random.js';

type LossFn = (out: Float64Array, dOut?: Float64Array) => number;

function checkLossGradient(loss: LossFn, out: Float64Array): void {
  const analytic = new Float64Array(out.length);
  loss(out, analytic);
  const h = 1e-6;
  for (let i = 0; i < out.length; i++) {
    const x = out[i];
    out[i] = x + h;
    const up = loss(out);
    out[i] = x - h;
    const down = loss(out);
    out[i] = x;
    expect(analytic[i]).toBeCloseTo((up - down) / (2 * h), 7);
  }
}

function randomArray(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * scale);
}

describe('loss gradients vs float64 finite differences', () => {
  const rng = new Rng(5);
  const [rows, cols] = [4, 5];

  it('softmax cross-entropy (mean over the batch)', () => {
    const labels = [0, 4, 2, 2];
    checkLossGradient((o, d) => softmaxCrossEntropy(o, labels, rows, cols, d), randomArray(rows * cols, rng, 3));
  });

  it('softmax cross-entropy value: uniform logits give log(classes)', () => {
    expect(softmaxCrossEntropy(new Float64Array(rows * cols), [0, 1, 2, 3], rows, cols)).toBeCloseTo(Math.log(cols), 12);
  });

  it('mean squared error', () => {
    const target = randomArray(rows * cols, rng);
    checkLossGradient((o, d) => meanSquaredError(o, target, rows, cols, d), randomArray(rows * cols, rng));
    expect(meanSquaredError(Float64Array.of(1, 2), [0, 0], 1, 2)).toBeCloseTo(2.5, 12);
  });

  it('Gaussian NLL with a softplus std (mean and scale columns)', () => {
    const target = randomArray(rows * 2, rng);
    checkLossGradient((o, d) => gaussianNll(o, target, rows, 4, d), randomArray(rows * 4, rng, 2));
    // value: mean 0, std softplus(raw) = 1 at raw = log(e − 1), target 0 → ½ log 2π (+ log of the 1e-4 floor)
    const raw = Math.log(Math.E - 1);
    expect(gaussianNll(Float64Array.of(0, raw), [0], 1, 2)).toBeCloseTo(0.5 * Math.log(2 * Math.PI) + Math.log(1 + 1e-4), 12);
  });
});

// ---- network gradients: every layer kind ----
const model = new Sequential([
  new Linear('a', 5, 7), relu(),
  new Linear('b', 7, 6), gelu(),
  new Linear('c', 6, 4), tanh(),
  new Linear('d', 4, 3),
]);

/** Independent float64 forward of `model`. */
function forward64(params: Record<string, Float64Array>, x: Float64Array, rows: number): Float64Array {
  let cur = x;
  let width = model.inFeatures;
  for (const layer of model.layers) {
    if (layer.type === 'linear') {
      const w = params[layer.weightName];
      const b = params[layer.biasName];
      const next = new Float64Array(rows * layer.outFeatures);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < layer.outFeatures; j++) {
          let s = b[j];
          for (let p = 0; p < width; p++) s += cur[i * width + p] * w[p * layer.outFeatures + j];
          next[i * layer.outFeatures + j] = s;
        }
      cur = next;
      width = layer.outFeatures;
    } else {
      cur = cur.map((v) => activate(layer.fn as ActivationKind, v));
    }
  }
  return cur;
}

const opsUnderTest: [string, () => Promise<NnOps>][] = [
  ['js', async () => new JsOps()],
  ['wasm', wasmOps],
];

describe.each(opsUnderTest)('network gradients on %s ops', (_name, make) => {
  let ops: NnOps;
  beforeAll(async () => {
    ops = await make();
  });

  it('match float64 finite differences for every parameter (Linear, ReLU, GELU, Tanh, cross-entropy)', () => {
    const rows = 6;
    const rng = new Rng(21);
    const init = model.init(3);
    const params64: Record<string, Float64Array> = {};
    for (const [name, v] of Object.entries(init)) params64[name] = Float64Array.from(v, (w) => w + 0.1 * (rng.uniform() - 0.5)); // nonzero biases too
    const x64 = randomArray(rows * model.inFeatures, rng, 2);
    const labels = [0, 1, 2, 0, 1, 2];
    const loss64 = () => softmaxCrossEntropy(forward64(params64, x64, rows), labels, rows, 3);

    // float32 weights and gradients in the ops' own memory (as the optimizer's buffers would be)
    const weights: Record<string, Float32Array> = {};
    const grads: Record<string, Float32Array> = {};
    for (const [name, v] of Object.entries(params64)) {
      weights[name] = ops.alloc(v.length).view();
      grads[name] = ops.alloc(v.length).view();
    }
    for (const [name, v] of Object.entries(params64)) weights[name].set(v); // after all allocs: views stay attached
    const net = model.bind(ops, 8);
    const out = net.forward((n) => weights[n], Float32Array.from(x64), rows);
    const ref = forward64(params64, x64, rows);
    for (let i = 0; i < ref.length; i++) expect(out[i]).toBeCloseTo(ref[i], 5);
    softmaxCrossEntropy(out, labels, rows, 3, net.outputGrad());
    net.backward((n) => weights[n], (n) => grads[n]);

    const h = 1e-6;
    for (const [name, p] of Object.entries(params64)) {
      for (let i = 0; i < p.length; i++) {
        const v = p[i];
        p[i] = v + h;
        const up = loss64();
        p[i] = v - h;
        const down = loss64();
        p[i] = v;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(grads[name][i] - numeric), `${name}[${i}]: ${grads[name][i]} vs ${numeric}`).toBeLessThan(2e-5 + 1e-3 * Math.abs(numeric));
      }
    }
  });

  it('skips parameters whose gradient sink returns undefined (frozen layers)', () => {
    const weights = model.init(1);
    const gd = new Float32Array(4 * 3 + 3);
    const gradsOf: Record<string, Float32Array> = { 'd.weight': gd.subarray(0, 12), 'd.bias': gd.subarray(12) };
    const wasmWeights: Record<string, Float32Array> = {};
    for (const [n, v] of Object.entries(weights)) wasmWeights[n] = ops.alloc(v.length).view();
    const gradBufs: Record<string, Float32Array> = {};
    for (const n of Object.keys(gradsOf)) gradBufs[n] = ops.alloc(gradsOf[n].length).view();
    for (const [n, v] of Object.entries(weights)) wasmWeights[n].set(v);
    const net = model.bind(ops, 4);
    const x = Float32Array.from({ length: 2 * 5 }, (_, i) => Math.sin(i));
    const out = net.forward((n) => wasmWeights[n], x, 2);
    const first = Array.from(out);
    net.outputGrad().fill(1);
    net.backward((n) => wasmWeights[n], (n) => gradBufs[n]);
    // d.bias gradient = Σ_rows dOut = 2 per output
    expect(Array.from(gradBufs['d.bias'])).toEqual([2, 2, 2]);
    expect(gradBufs['d.weight'].some((v) => v !== 0)).toBe(true);
    // forward is deterministic
    expect(Array.from(net.forward((n) => wasmWeights[n], x, 2))).toEqual(first);
  });
});

describe('network validation', () => {
  it('rejects mismatched layer widths and oversize batches with clear messages', () => {
    expect(() => new Sequential([new Linear('a', 3, 4), relu(), new Linear('b', 5, 2)])).toThrow(/takes 5 features but the previous layer gives 4/);
    const net = new Sequential([new Linear('a', 3, 2)]).bind(new JsOps(), 2);
    expect(() => net.forward(() => new Float32Array(6), new Float32Array(9), 3)).toThrow(/rows must be an integer in 1..2/);
  });
});
