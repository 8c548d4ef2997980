// The float64 oracle reproduces the PyTorch reference's golden vectors to ~1e-14, so it can
// stand in for the reference everywhere else.
import { describe, expect, it } from 'vitest';
import { Ivon64 } from './oracle/ivon64.js';
import { EPSILON, GOLDEN, HYPER, STEP1_CURV_MEAN, THETA0, gradient } from './oracle/golden.js';

const close = (got: ArrayLike<number>, want: number[], rel: number) =>
  want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(w))));

describe('float64 IVON oracle', () => {
  it('matches the golden vectors of IVON.md §7 to 1e-12', () => {
    const opt = new Ivon64(THETA0, HYPER);
    GOLDEN.forEach((row, s) => {
      const theta = opt.sample(EPSILON[s], gradient);
      close(theta, row.theta, 1e-12);
      if (s === 0) close(opt.curvatureMean(), STEP1_CURV_MEAN, 1e-12);
      opt.step();
      close(opt.mean, row.mean, 1e-12);
      close(opt.hess, row.hess, 1e-12);
      close(opt.momentum, row.momentum, 1e-12);
    });
  });
});
