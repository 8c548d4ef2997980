// Quick GEMM throughput check for the three products of a training step (forward Y = X·W,
// backward dX = dY·Wᵀ and dW = Xᵀ·dY) on the WASM SIMD kernels and the plain-TS ops, one core.
// Run: npx tsx examples/gemm-gflops.ts [size]   (the real benchmark harness belongs in bench/)
import { JsOps, type NnOps } from '../src/nn/ops.js';
import { devWasmOps } from '../src/nn/dev-wasm.js';

type Product = { label: string; transA: boolean; transB: boolean };
const products: Product[] = [
  { label: 'Y  = X·W    (nn)', transA: false, transB: false },
  { label: 'dX = dY·Wᵀ  (nt)', transA: false, transB: true },
  { label: 'dW = Xᵀ·dY  (tn)', transA: true, transB: false },
];

function gflops(ops: NnOps, p: Product, m: number, n: number, k: number, minSeconds: number): number {
  const a = ops.alloc(m * k).view().map((_, i) => Math.sin(i));
  const b = ops.alloc(k * n).view().map((_, i) => Math.cos(i));
  const aBuf = ops.alloc(m * k);
  const bBuf = ops.alloc(k * n);
  const cBuf = ops.alloc(m * n);
  aBuf.view().set(a);
  bBuf.view().set(b);
  const spec = () => ({ transA: p.transA, transB: p.transB, m, n, k, a: aBuf.view(), b: bBuf.view(), c: cBuf.view() });
  ops.gemm(spec()); // warm-up (JIT tiers)
  let reps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    ops.gemm(spec());
    reps++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < minSeconds);
  return (2 * m * n * k * reps) / elapsed / 1e9;
}

const size = Number(process.argv[2] ?? 512);
const shapes: [string, number, number, number][] = [
  [`${size}³`, size, size, size],
  ['MLP layer 256×(784→512)', 256, 512, 784],
  ['digits layer 128×(64→128)', 128, 128, 64],
];
const wasm = await devWasmOps();
const js = new JsOps();
for (const [name, m, n, k] of shapes) {
  console.log(`\n${name}  (m=${m}, n=${n}, k=${k})`);
  for (const p of products) {
    const w = gflops(wasm, p, m, n, k, 0.5);
    const j = gflops(js, p, m, n, k, 0.3);
    console.log(`  ${p.label}   wasm ${w.toFixed(1).padStart(5)} GFLOP/s   js ${j.toFixed(2).padStart(5)} GFLOP/s`);
  }
}
