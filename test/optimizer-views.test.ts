// CPU backends hand the model zero-copy views: θ and gradients are read and written in place in
// the optimizer's own buffers. These tests pin that contract on js and wasm.
import { describe, expect, it } from 'vitest';
import { createRuntime, IVON, UsageError } from '../src/index.js';

describe.each(['js', 'wasm'] as const)('zero-copy views on %s', (backend) => {
  it('θ views equal m + σε, gradients written through views are what step() uses', async () => {
    const rt = await createRuntime({ backend });
    const opt = new IVON(rt, { params: { w: Float32Array.from([1, 2, 3]) }, lr: 0.1, ess: 10, hessInit: 1, weightDecay: 0 });
    const eps = Float32Array.from([0.5, -1, 2]);
    const sigma = 1 / Math.sqrt(10);
    await opt.sampledParams(
      (ctx) => {
        const theta = ctx.theta('w');
        expect(Array.from(theta)).toEqual([1, 2, 3].map((m, i) => Math.fround(m + Math.fround(Math.fround(sigma) * eps[i]))));
        const g = ctx.grad('w');
        expect(Array.from(g)).toEqual([0, 0, 0]); // zero-filled
        g[0] = 1;
        g[2] = -1;
        // The view is the optimizer's memory: a second request returns the same numbers.
        expect(Array.from(ctx.grad('w'))).toEqual([1, 0, -1]);
      },
      { epsilon: { w: eps } },
    );
    // The weights view between blocks is the mean, untouched by the block.
    expect(Array.from(opt.param('w'))).toEqual([1, 2, 3]);
    await opt.step();
    // First step with h moving: grad sign decides the direction of the move.
    const m = opt.param('w');
    expect(m[0]).toBeLessThan(1);
    expect(m[1]).toBe(2);
    expect(m[2]).toBeGreaterThan(3);
    let leaked: { theta(name: string): Float32Array } | undefined;
    await opt.sampledParams((ctx) => {
      leaked = ctx;
      ctx.grad('w');
    });
    expect(() => leaked!.theta('w')).toThrow(UsageError);
    opt.dispose();
    await rt.dispose();
  });
});
