// Dev script (not shipped): the model toolkit's GEMM on the worker pool, for the numbers behind
// DEFAULT_MIN_GEMM_FLOPS_PER_WORKER (src/backends/pool.ts). Run: npx tsx workers/measure-gemm.ts [workers]
// Prints GFLOP/s of the three training products of a 1024→1024 Linear layer on a batch of 256
// (X·W, dY·Wᵀ, Xᵀ·dY) on one thread (the plain wasm backend) and on the pool, then the break-even:
// the same pool running one product inline and sharded, over sizes, with the flops per shard.

import { createPoolBackend, type PoolBackend } from '../src/backends/pool.js';
import { createWasmBackend, type WasmBackend } from '../src/backends/wasm.js';
import { WasmOps, type WasmNnHost } from '../src/nn/ops-wasm.js';
import type { GemmSpec } from '../src/nn/ops.js';
import { trainingProducts, type Product } from '../bench/suites/gemm.js';

const workers = Number(process.argv[2] ?? 1);

function median(repeats: number, fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Milliseconds (median) of one product on `backend`'s memory. */
function time(backend: WasmBackend, p: Product, repeats: number): number {
  const ops = new WasmOps(backend.nnHost() as unknown as WasmNnHost);
  const [bufA, bufB, bufC] = [ops.alloc(p.m * p.k), ops.alloc(p.k * p.n), ops.alloc(p.m * p.n)];
  const [a, b, c] = [bufA.view(), bufB.view(), bufC.view()]; // after every alloc: growth detaches views
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i);
  for (let i = 0; i < b.length; i++) b[i] = Math.cos(i);
  const spec: GemmSpec = { transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, a, b, c };
  return median(repeats, () => ops.gemm(spec));
}

const gflops = (p: Product, ms: number) => (2 * p.m * p.n * p.k) / ms / 1e6;

const single = await createWasmBackend();
const pool: PoolBackend = await createPoolBackend({ workers });
const inline = await createPoolBackend({ workers, minGemmFlopsPerWorker: Number.MAX_SAFE_INTEGER });
const always = await createPoolBackend({ workers, minGemmFlopsPerWorker: 1 });
try {
  console.log(`GEMM GFLOP/s, batch 256, Linear 1024→1024: 1 thread vs pool (${workers} worker(s) + main thread), median of 15`);
  for (const p of trainingProducts({ batch: 256, inF: 1024, outF: 1024 })) {
    const one = time(single, p, 15);
    const many = time(pool, p, 15);
    console.log(`  ${p.name.padEnd(20)} ${p.m}×${p.k}·${p.k}×${p.n}: 1 thread ${gflops(p, one).toFixed(1)}, pool ${gflops(p, many).toFixed(1)} (${(one / many).toFixed(2)}x, ${pool.gemmShardsFor(p.m, p.n, p.k)} shards)`);
  }
  console.log(`\nBreak-even, same pool: inline vs sharded over ${workers + 1} threads (median ms; flops per shard)`);
  for (const size of [16, 24, 32, 48, 64, 96, 128, 192, 256]) {
    for (const p of trainingProducts({ batch: size, inF: size, outF: size }).slice(0, 1)) {
      const repeats = size < 100 ? 200 : 40;
      const t1 = time(inline, p, repeats);
      const tn = time(always, p, repeats);
      const perShard = (2 * p.m * p.n * p.k) / always.gemmShardsFor(p.m, p.n, p.k);
      console.log(`  ${size}³: inline ${t1.toFixed(4)} ms, sharded ${tn.toFixed(4)} ms (${(t1 / tn).toFixed(2)}x), ${(perShard / 1e6).toFixed(2)} Mflop/shard`);
    }
  }
} finally {
  await Promise.all([single.dispose(), pool.dispose(), inline.dispose(), always.dispose()]);
}
