// The same answers on every backend: the Philox stream is bit-identical on js, wasm and webgpu;
// js and wasm agree bit for bit on normals and whole IVON/AdamW runs; webgpu agrees to float32
// rounding (its compiler may fuse multiply-adds).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, createRuntime, IVON, type Runtime } from '../src/index.js';

const KINDS = ['js', 'wasm', 'webgpu'] as const;
type Kind = (typeof KINDS)[number];

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return worst;
}

describe('cross-backend agreement', () => {
  const rts = {} as Record<Kind, Runtime>;
  beforeAll(async () => {
    for (const kind of KINDS) rts[kind] = await createRuntime({ backend: kind });
  });
  afterAll(async () => {
    for (const kind of KINDS) await rts[kind]?.dispose();
  });

  it('draws the identical Philox stream on every backend', async () => {
    const want = await rts.js.compute.randomBits(0xfffffff0, 37, 3, 0xdeadbeef, 1, 0x12345678, 0x9abcdef0);
    for (const kind of ['wasm', 'webgpu'] as const) {
      const got = await rts[kind].compute.randomBits(0xfffffff0, 37, 3, 0xdeadbeef, 1, 0x12345678, 0x9abcdef0);
      expect(Array.from(got), kind).toEqual(Array.from(want));
    }
  });

  it('gives js and wasm bit-identical normals, webgpu within 2e-6', async () => {
    const js = await rts.js.compute.randomNormals(5, 4099, 1, 17, 0, 42, 7);
    const wasm = await rts.wasm.compute.randomNormals(5, 4099, 1, 17, 0, 42, 7);
    const gpu = await rts.webgpu.compute.randomNormals(5, 4099, 1, 17, 0, 42, 7);
    expect(Array.from(wasm)).toEqual(Array.from(js));
    let worst = 0;
    for (let i = 0; i < js.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - js[i]));
    expect(worst).toBeLessThan(2e-6);
  });

  it('runs IVON (RNG noise, 2 groups, 2 samples) and AdamW to the same state on every backend', async () => {
    const n = 203;
    const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const a = Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 7) / 3);
    const finals = {} as Record<Kind, { ivon: Float32Array; hess: Float32Array; adamw: Float32Array }>;
    for (const kind of KINDS) {
      const rt = rts[kind];
      const ivon = new IVON(rt, {
        groups: [
          { params: { p: init.slice(0, 100) }, lr: 0.05 },
          { params: { q: init.slice(100) }, lr: 0.1, ess: 500 },
        ],
        ess: 100,
        hessInit: 0.5,
        beta2: 0.99,
        seed: 1234,
      });
      const adamw = new AdamW(rt, { params: { w: init.slice() }, lr: 0.01 });
      for (let step = 0; step < 8; step++) {
        for (let s = 0; s < 2; s++) {
          await ivon.sampledParams(async (ctx) => {
            const p = await ctx.readTheta('p');
            const q = await ctx.readTheta('q');
            ctx.setGrad('p', p.map((x, i) => a[i] * x - 0.1));
            ctx.setGrad('q', q.map((x, i) => a[100 + i] * x + 0.2));
          });
        }
        await ivon.step();
        await adamw.sampledParams(async (ctx) => ctx.setGrad('w', (await ctx.readTheta('w')).map((x, i) => a[i] * x)));
        await adamw.step();
      }
      const p = await ivon.read('p');
      const q = await ivon.read('q');
      finals[kind] = {
        ivon: Float32Array.from([...p.mean, ...q.mean]),
        hess: Float32Array.from([...p.hess, ...q.hess]),
        adamw: (await adamw.readTensors('w')).mean,
      };
      ivon.dispose();
      adamw.dispose();
    }
    expect(Array.from(finals.wasm.ivon)).toEqual(Array.from(finals.js.ivon));
    expect(Array.from(finals.wasm.hess)).toEqual(Array.from(finals.js.hess));
    expect(Array.from(finals.wasm.adamw)).toEqual(Array.from(finals.js.adamw));
    expect(maxRelDiff(finals.webgpu.ivon, finals.wasm.ivon)).toBeLessThan(1e-6);
    expect(maxRelDiff(finals.webgpu.hess, finals.wasm.hess)).toBeLessThan(1e-6);
    expect(maxRelDiff(finals.webgpu.adamw, finals.wasm.adamw)).toBeLessThan(1e-6);
  });
});
