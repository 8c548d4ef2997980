// GEMM of the model toolkit against a float64 naive reference: every transpose combination,
// odd shapes (edges of the 4×8 register tile and of the 256-deep / 128-row / 512-column blocks),
// accumulate, explicit leading dimensions and row shards — on the plain-TS and the WASM ops.
import { beforeAll, describe, expect, it } from 'vitest';
import { JsOps, gemmRowShard, type GemmSpec, type NnOps } from '../src/nn/ops.js';
import { wasmOps } from './nn-wasm-ops.js';
import { Rng } from '../src/nn/random.js';

function naive(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

function filled(ops: NnOps, count: number, rng: Rng): Float32Array {
  const v = ops.alloc(count).view();
  for (let i = 0; i < count; i++) v[i] = rng.uniform() * 2 - 1;
  return v;
}

// Worst error in units of the float32 rounding budget of a k-term sum of products in [-1, 1]
// (k · 2^-24 per term magnitude ≤ 1): a dropped or doubled term is ~10^6 of these units.
function maxRelErr(got: Float32Array, want: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / ((k + 1) * 2 ** -24));
  return worst;
}

const shapes: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [4, 8, 16], [5, 9, 17], [13, 10, 64], [64, 33, 300], [130, 20, 9], [7, 520, 31], [129, 517, 257],
];

const opsUnderTest: [string, () => Promise<NnOps>][] = [
  ['js', async () => new JsOps()],
  ['wasm', wasmOps],
];

describe.each(opsUnderTest)('gemm on %s ops', (_name, make) => {
  let ops: NnOps;
  beforeAll(async () => {
    ops = await make();
  });

  for (const transA of [false, true])
    for (const transB of [false, true])
      it(`matches the naive float64 product, transA=${transA} transB=${transB}, odd shapes`, () => {
        const rng = new Rng(7);
        for (const [m, n, k] of shapes) {
          const a = filled(ops, m * k, rng);
          const b = filled(ops, k * n, rng);
          const c = ops.alloc(m * n).view();
          c.fill(Number.NaN); // overwritten, never read, when accumulate is off
          ops.gemm({ transA, transB, m, n, k, a, b, c });
          const want = naive(transA, transB, m, n, k, a, b);
          expect(maxRelErr(c, want, k), `${m}x${n}x${k}`).toBeLessThan(4);
          // accumulate adds the same product again
          ops.gemm({ transA, transB, m, n, k, a, b, c, accumulate: true });
          expect(maxRelErr(c, want.map((v) => 2 * v), k), `${m}x${n}x${k} accumulate`).toBeLessThan(8);
        }
      });

  it('row shards reproduce the whole product for every transpose (how workers split it)', () => {
    const rng = new Rng(3);
    const [m, n, k] = [37, 19, 45];
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const a = filled(ops, m * k, rng);
        const b = filled(ops, k * n, rng);
        const whole = ops.alloc(m * n).view();
        const sharded = ops.alloc(m * n).view();
        const spec: GemmSpec = { transA, transB, m, n, k, a, b, c: whole };
        ops.gemm(spec);
        for (const [r0, r1] of [[0, 10], [10, 11], [11, 37]]) ops.gemm(gemmRowShard({ ...spec, c: sharded }, r0, r1));
        expect(Array.from(sharded)).toEqual(Array.from(whole));
      }
  });

  it('honours explicit leading dimensions (a sub-block of larger matrices)', () => {
    const rng = new Rng(11);
    const big = filled(ops, 20 * 30, rng); // 20×30, use rows 2.., cols 3.. as a 6×5 A (lda 30)
    const bBig = filled(ops, 12 * 9, rng); // 12×9, a 5×4 B (ldb 9)
    const c = ops.alloc(6 * 11).view().fill(0); // 6×4 result inside ldc 11
    ops.gemm({ transA: false, transB: false, m: 6, n: 4, k: 5, a: big.subarray(2 * 30 + 3), lda: 30, b: bBig.subarray(9 + 1), ldb: 9, c, ldc: 11 });
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 11; j++) {
        let s = 0;
        if (j < 4) for (let p = 0; p < 5; p++) s += big[(2 + i) * 30 + 3 + p] * bBig[(1 + p) * 9 + 1 + j];
        expect(c[i * 11 + j]).toBeCloseTo(s, 5);
      }
  });

  it('rejects operands that are too short, saying which', () => {
    const a = ops.alloc(5).view();
    const b = ops.alloc(6).view();
    const c = ops.alloc(4).view();
    expect(() => ops.gemm({ transA: false, transB: false, m: 2, n: 2, k: 3, a, b, c })).toThrow(/A has 5 elements/);
  });
});

describe('wasm ops', () => {
  it('refuses arrays outside its memory with a message that says what to do', async () => {
    const ops = await wasmOps();
    const a = new Float32Array(4);
    expect(() => ops.gemm({ transA: false, transB: false, m: 2, n: 2, k: 2, a, b: ops.alloc(4).view(), c: ops.alloc(4).view() })).toThrow(/not a view of the WASM memory/);
  });
});
