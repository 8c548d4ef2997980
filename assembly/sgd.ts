// SGD with momentum and L2 weight decay (docs/KERNELS.md §2): the baseline optimizer. SIMD for
// groups of 4, scalar code with the same operations for the last count % 4 elements.

/** g = grad + weightDecay·param; momentumBuf = momentum·momentumBuf + g; param -= lr·momentumBuf. */
export function sgdUpdate(param: usize, grad: usize, momentumBuf: usize, count: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  const lrV = f32x4.splat(lr), muV = f32x4.splat(momentum), wdV = f32x4.splat(weightDecay);
  let o: usize = 0;
  const end = <usize>count << 2;
  for (; o + 16 <= end; o += 16) {
    const p = v128.load(param + o);
    const g = f32x4.add(v128.load(grad + o), f32x4.mul(wdV, p));
    const b = f32x4.add(f32x4.mul(muV, v128.load(momentumBuf + o)), g);
    v128.store(momentumBuf + o, b);
    v128.store(param + o, f32x4.sub(p, f32x4.mul(lrV, b)));
  }
  for (; o < end; o += 4) {
    const p = load<f32>(param + o);
    const g = load<f32>(grad + o) + weightDecay * p;
    const b = momentum * load<f32>(momentumBuf + o) + g;
    store<f32>(momentumBuf + o, b);
    store<f32>(param + o, p - lr * b);
  }
}
