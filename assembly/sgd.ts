// SGD with momentum and L2 weight decay (docs/KERNELS.md §2): the baseline optimizer. SIMD for
// groups of 4, four groups per loop trip (as in adamw.ts: fewer loop back edges), scalar code with
// the same operations for the last count % 4 elements.

// @ts-ignore: decorator
@inline function sgdQuad(param: usize, grad: usize, momentumBuf: usize, lr: v128, momentum: v128, weightDecay: v128): void {
  const p = v128.load(param);
  const g = f32x4.add(v128.load(grad), f32x4.mul(weightDecay, p));
  const b = f32x4.add(f32x4.mul(momentum, v128.load(momentumBuf)), g);
  v128.store(momentumBuf, b);
  v128.store(param, f32x4.sub(p, f32x4.mul(lr, b)));
}

/** g = grad + weightDecay·param; momentumBuf = momentum·momentumBuf + g; param -= lr·momentumBuf. */
export function sgdUpdate(param: usize, grad: usize, momentumBuf: usize, count: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  const lrV = f32x4.splat(lr), muV = f32x4.splat(momentum), wdV = f32x4.splat(weightDecay);
  let o: usize = 0;
  const end = <usize>count << 2;
  for (; o + 64 <= end; o += 64) {
    sgdQuad(param + o, grad + o, momentumBuf + o, lrV, muV, wdV);
    sgdQuad(param + o + 16, grad + o + 16, momentumBuf + o + 16, lrV, muV, wdV);
    sgdQuad(param + o + 32, grad + o + 32, momentumBuf + o + 32, lrV, muV, wdV);
    sgdQuad(param + o + 48, grad + o + 48, momentumBuf + o + 48, lrV, muV, wdV);
  }
  for (; o + 16 <= end; o += 16) sgdQuad(param + o, grad + o, momentumBuf + o, lrV, muV, wdV);
  for (; o < end; o += 4) {
    const p = load<f32>(param + o);
    const g = load<f32>(grad + o) + weightDecay * p;
    const b = momentum * load<f32>(momentumBuf + o) + g;
    store<f32>(momentumBuf + o, b);
    store<f32>(param + o, p - lr * b);
  }
}
