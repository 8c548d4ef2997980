// AdamW (decoupled weight decay) as docs/KERNELS.md §2 orders it; the host folds lr, the bias
// corrections and the decay into stepSize, invBiasCorrection2Sqrt and decayFactor. The second bias
// correction is a multiply by a host reciprocal, not PyTorch's divide: at 4 lanes the divider, not
// memory, bounded this kernel, and one divide per element is left. SIMD for groups of 4, four
// groups per loop trip (V8 checks for interrupts on every loop back edge), scalar code with the
// same operations for the last count % 4 elements. Both together: 16M params 1.70-1.77 -> 1.28
// ns/param, 64K 1.8-2.2 -> 0.8-1.2 (bench/results/cpu-2core-adamw-before-after.txt).

// @ts-ignore: decorator
@inline function adamwQuad(param: usize, grad: usize, expAvg: usize, expAvgSq: usize,
  stepSize: v128, decayFactor: v128, beta1: v128, omb1: v128, beta2: v128, omb2: v128, eps: v128, invBc2: v128): void {
  const g = v128.load(grad);
  const p = f32x4.mul(v128.load(param), decayFactor);
  const m = f32x4.add(f32x4.mul(beta1, v128.load(expAvg)), f32x4.mul(omb1, g));
  const v = f32x4.add(f32x4.mul(beta2, v128.load(expAvgSq)), f32x4.mul(f32x4.mul(omb2, g), g));
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(v), invBc2), eps);
  v128.store(expAvg, m);
  v128.store(expAvgSq, v);
  v128.store(param, f32x4.sub(p, f32x4.mul(stepSize, f32x4.div(m, denom))));
}

/** param ← param·decayFactor − stepSize·expAvg/(sqrt(expAvgSq)·invBc2 + eps), moments updated first. */
export function adamwUpdate(
  param: usize, grad: usize, expAvg: usize, expAvgSq: usize, count: i32,
  stepSize: f32, decayFactor: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32, invBiasCorrection2Sqrt: f32,
): void {
  const sV = f32x4.splat(stepSize), dV = f32x4.splat(decayFactor), b1V = f32x4.splat(beta1), omb1V = f32x4.splat(oneMinusBeta1);
  const b2V = f32x4.splat(beta2), omb2V = f32x4.splat(oneMinusBeta2), eV = f32x4.splat(eps), bcV = f32x4.splat(invBiasCorrection2Sqrt);
  let o: usize = 0;
  const end = <usize>count << 2;
  for (; o + 64 <= end; o += 64) {
    adamwQuad(param + o, grad + o, expAvg + o, expAvgSq + o, sV, dV, b1V, omb1V, b2V, omb2V, eV, bcV);
    adamwQuad(param + o + 16, grad + o + 16, expAvg + o + 16, expAvgSq + o + 16, sV, dV, b1V, omb1V, b2V, omb2V, eV, bcV);
    adamwQuad(param + o + 32, grad + o + 32, expAvg + o + 32, expAvgSq + o + 32, sV, dV, b1V, omb1V, b2V, omb2V, eV, bcV);
    adamwQuad(param + o + 48, grad + o + 48, expAvg + o + 48, expAvgSq + o + 48, sV, dV, b1V, omb1V, b2V, omb2V, eV, bcV);
  }
  for (; o + 16 <= end; o += 16) {
    adamwQuad(param + o, grad + o, expAvg + o, expAvgSq + o, sV, dV, b1V, omb1V, b2V, omb2V, eV, bcV);
  }
  for (; o < end; o += 4) {
    const g = load<f32>(grad + o);
    const p = load<f32>(param + o) * decayFactor;
    const m = beta1 * load<f32>(expAvg + o) + oneMinusBeta1 * g;
    const v = beta2 * load<f32>(expAvgSq + o) + (oneMinusBeta2 * g) * g;
    const denom = sqrt<f32>(v) * invBiasCorrection2Sqrt + eps;
    store<f32>(expAvg + o, m);
    store<f32>(expAvgSq + o, v);
    store<f32>(param + o, p - stepSize * (m / denom));
  }
}
