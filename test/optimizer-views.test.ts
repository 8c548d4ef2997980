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

  it("grad(name, { overwrite: true }) skips the zero-fill: stale until written, then the same step as a zeroed view", async () => {
    const rt = await createRuntime({ backend });
    const init = { w: Float32Array.from([1, 2, 3, 4, 5]) };
    const zeroed = new IVON(rt, { params: init, lr: 0.1, ess: 10, seed: 4 });
    const overwritten = new IVON(rt, { params: init, lr: 0.1, ess: 10, seed: 4 });
    const grads = [Float32Array.from([0.5, -1, 2, 0, 3]), Float32Array.from([1, 1, -2, 0.25, 0])];
    for (const g of grads) {
      await zeroed.sampledParams((ctx) => ctx.grad('w').set(g));
      await overwritten.sampledParams((ctx) => {
        const view = ctx.grad('w', { overwrite: true });
        if (g === grads[1]) expect(Array.from(view)).toEqual(Array.from(grads[0])); // the last block's values: not zeroed
        view.set(g);
      });
      await zeroed.step();
      await overwritten.step();
    }
    const [a, b] = [await overwritten.read('w'), await zeroed.read('w')];
    for (const key of ['mean', 'hess', 'momentum'] as const) expect(a[key]).toEqual(b[key]);
    // Options are validated before anything changes; the optimizer stays usable.
    await expect(overwritten.sampledParams((ctx) => ctx.grad('w', { zero: false } as never))).rejects.toThrow(/unknown option 'zero'/);
    await expect(overwritten.sampledParams((ctx) => ctx.grad('w', { overwrite: 1 } as never))).rejects.toThrow(/overwrite must be true or false/);
    await overwritten.sampledParams((ctx) => ctx.grad('w').set(grads[0]));
    expect((await overwritten.step()).step).toBe(3);
    zeroed.dispose();
    overwritten.dispose();
    await rt.dispose();
  });
});
