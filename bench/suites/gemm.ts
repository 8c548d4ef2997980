// Suite 'gemm': GFLOP/s of the model toolkit's GEMM (src/nn) for the three products of a Linear
// layer's training step — forward X·W, backward dY·Wᵀ (input gradient) and Xᵀ·dY (weight
// gradient) — on each CPU backend, and TensorFlow.js's wasm backend on the same shapes in the
// same run when it is installed (its tf.matMul with the same transposes; the time includes
// dataSync() of the m×n result, as a tfjs training step would pay to read it).


import { gemmFlops } from '../bytes.js';
import type { SuiteContext } from '../context.js';
import { reasonOf } from '../context.js';
import { measurement, type Measurement } from '../results.js';
import type { Summary } from '../stats.js';

/** A Linear layer of `inF`→`outF` on a batch of `batch` rows. */
export interface GemmShape {
  batch: number;
  inF: number;
  outF: number;
}

export interface Product {
  name: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  /** Which operand holds A and B: X (batch×in), W (in×out), dY (batch×out). */
  a: 'X' | 'dY';
  b: 'W' | 'dY';
}

/** The three products with their dimensions (row-major, as Network.forward/backward call them). */
export function trainingProducts({ batch, inF, outF }: GemmShape): Product[] {
  return [
    { name: 'X·W', transA: false, transB: false, m: batch, n: outF, k: inF, a: 'X', b: 'W' },
    { name: 'dY·Wᵀ', transA: false, transB: true, m: batch, n: inF, k: outF, a: 'dY', b: 'W' },
    { name: 'Xᵀ·dY', transA: true, transB: false, m: inF, n: outF, k: batch, a: 'X', b: 'dY' },
  ];
}

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function gemmRow(backend: string, p: Product, shape: GemmShape, s: Summary, note: string): Measurement {
  const m = measurement(
    { suite: 'gemm', backend, optimizer: null, name: p.name, params: p.m * p.n * p.k, workers: 0, note: `${shape.batch}×${shape.inF}→${shape.outF}; ${note}` },
    s,
    { perElement: false },
  );
  m.gflops = gemmFlops(p.m, p.n, p.k) / (s.median_ms * 1e6);
  return m;
}

/**
 * The tiled WGSL GEMM (gpu/nn) on the runtime's device: `repeat` products recorded into one submit,
 * host time until onSubmittedWorkDone divided by `repeat`. A software adapter runs the CPU shape; a
 * real GPU gets a batch of 8192 so the products are large enough to time.
 */
async function webgpuGemmRows(ctx: SuiteContext, nnOps: typeof import('../../src/nn/runtime-ops.js'), cpuShape: GemmShape): Promise<Measurement[]> {
  const opened = await ctx.openRuntime('webgpu');
  if (!opened.ok) {
    ctx.skip('gemm', 'webgpu', opened.reason);
    return [];
  }
  const rows: Measurement[] = [];
  try {
    const ops = nnOps.createModelOps(opened.runtime);
    if (ops.kind !== 'webgpu') throw new Error(`expected GPU model ops, got ${ops.kind}`);
    await ops.ready();
    const software = (opened.runtime.compute as { isSoftwareAdapter?: boolean }).isSoftwareAdapter ?? true;
    const shape: GemmShape = software ? cpuShape : { batch: 8192, inF: 2048, outF: 2048 };
    const repeat = software ? 1 : 20;
    const products = trainingProducts(shape);
    const tensors = {
      X: { buffer: ops.createBuffer(shape.batch * shape.inF, 'X'), offset: 0 },
      W: { buffer: ops.createBuffer(shape.inF * shape.outF, 'W'), offset: 0 },
      dY: { buffer: ops.createBuffer(shape.batch * shape.outF, 'dY'), offset: 0 },
      C: { buffer: ops.createBuffer(Math.max(...products.map((p) => p.m * p.n)), 'C'), offset: 0 },
    };
    ops.upload(tensors.X, filled(shape.batch * shape.inF, 1));
    ops.upload(tensors.W, filled(shape.inF * shape.outF, 2));
    ops.upload(tensors.dY, filled(shape.batch * shape.outF, 3));
    const note = `WGSL tiled GEMM, ${repeat} per submit${software ? '; software adapter: not GPU performance' : ''}`;
    try {
      for (const p of products) {
        const s = await ctx.time(async () => {
          const recording = ops.record();
          for (let r = 0; r < repeat; r++) {
            recording.gemm({ transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, a: tensors[p.a], b: tensors[p.b], c: tensors.C });
          }
          ops.submit(recording);
          await ops.device.queue.onSubmittedWorkDone();
        });
        const perProduct = { ...s, median_ms: s.median_ms / repeat, p90_ms: s.p90_ms / repeat, min_ms: s.min_ms / repeat, mean_ms: s.mean_ms / repeat };
        rows.push(gemmRow('webgpu', p, shape, perProduct, note));
      }
    } finally {
      ops.forget(Object.values(tensors).map((t) => t.buffer));
      for (const t of Object.values(tensors)) t.buffer.destroy();
    }
  } catch (error) {
    ctx.skip('gemm', 'webgpu', reasonOf(error));
  } finally {
    await opened.runtime.dispose();
  }
  return rows;
}

export async function runGemmSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## gemm: GFLOP/s of the three training products (target ≥ 20 per core), TensorFlow.js side by side');
  const shape: GemmShape = ctx.options.quick ? { batch: 128, inF: 512, outF: 512 } : { batch: 256, inF: 1024, outF: 1024 };
  const products = trainingProducts(shape);
  const source = { X: filled(shape.batch * shape.inF, 1), W: filled(shape.inF * shape.outF, 2), dY: filled(shape.batch * shape.outF, 3) };
  const rows: Measurement[] = [];
  let nnOps: typeof import('../../src/nn/runtime-ops.js') | undefined;
  try {
    nnOps = await import('../../src/nn/runtime-ops.js');
  } catch (error) {
    ctx.skip('gemm', null, `the model toolkit (src/nn/runtime-ops.ts) is not available: ${reasonOf(error)}`);
  }
  for (const kind of ctx.options.backends) {
    if (!nnOps) break;
    if (kind === 'webgpu') {
      rows.push(...(await webgpuGemmRows(ctx, nnOps, shape)));
      continue;
    }
    const opened = await ctx.openRuntime(kind);
    if (!opened.ok) {
      ctx.skip('gemm', kind, opened.reason);
      continue;
    }
    try {
      const ops = nnOps.createNnOps(opened.runtime);
      const where = ops.kind === 'wasm' ? 'WASM SIMD, 1 thread' : 'plain TypeScript';
      const bufs = {
        X: ops.alloc(source.X.length),
        W: ops.alloc(source.W.length),
        dY: ops.alloc(source.dY.length),
        C: ops.alloc(Math.max(...products.map((p) => p.m * p.n))),
      };
      bufs.X.view().set(source.X);
      bufs.W.view().set(source.W);
      bufs.dY.view().set(source.dY);
      for (const p of products) {
        const s = await ctx.time(() =>
          ops.gemm({ transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, a: bufs[p.a].view(), b: bufs[p.b].view(), c: bufs.C.view() }),
        );
        rows.push(gemmRow(ops.kind, p, shape, s, where));
      }
    } finally {
      await opened.runtime.dispose();
    }
  }
  const tfjs = await ctx.host.loadTfjs();
  if (typeof tfjs === 'string') ctx.skip('gemm', 'tfjs-wasm', tfjs);
  else {
    const { tf } = tfjs;
    const t = {
      X: tf.tensor2d(source.X, [shape.batch, shape.inF]),
      W: tf.tensor2d(source.W, [shape.inF, shape.outF]),
      dY: tf.tensor2d(source.dY, [shape.batch, shape.outF]),
    };
    try {
      for (const p of products) {
        const s = await ctx.time(() => {
          const c = tf.matMul(t[p.a], t[p.b], p.transA, p.transB);
          c.dataSync();
          c.dispose();
        });
        rows.push(gemmRow('tfjs-wasm', p, shape, s, tfjs.description));
      }
    } finally {
      for (const x of Object.values(t)) x.dispose();
    }
  }
  rows.forEach((r) => ctx.record(r));
  ctx.printTable('gemm', rows);
}
