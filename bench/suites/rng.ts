// Suite 'rng': normals per second of the counter-based generator (docs/KERNELS.md §1), through
// the Backend interface (randomNormals: includes copying the result out) and, on wasm, the raw
// fillNormal kernel writing into the arena's memory (the cost the sample kernel pays), and the
// raw Philox words alone (philoxBlocks: one 32-bit word per normal), which splits a normal's
// cost into the generator's and Box–Muller's.

import type { Backend } from '../../src/backend.js';

import { bytesMoved } from '../bytes.js';
import { sizesFor } from '../options.js';
import type { SuiteContext } from '../context.js';
import { pointer, wasmLowLevel } from '../probes.js';
import { measurement, type Measurement } from '../results.js';
import type { Summary } from '../stats.js';

function normalsRow(kind: string, name: string, n: number, s: Summary, note?: string): Measurement {
  const m = measurement({ suite: 'rng', backend: kind, optimizer: null, name, params: n, workers: 0, note }, s, { bytes: bytesMoved('fillNormal', n) });
  m.normals_per_s = n / (s.median_ms / 1000);
  return m;
}

export async function runRngSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## rng: normals per second (target ≥ 300 M/s on one core)');
  const n = Math.min(...sizesFor(ctx.options), 4 * 2 ** 20);
  const rows: Measurement[] = [];
  for (const kind of ctx.options.backends) {
    if (kind === 'webgpu') continue; // measured in the 'webgpu' suite
    const opened = await ctx.openRuntime(kind);
    if (!opened.ok) {
      ctx.skip('rng', kind, opened.reason);
      continue;
    }
    const backend: Backend = opened.backend;
    try {
      let step = 0;
      const s = await ctx.time(async () => {
        await backend.randomNormals(0, n, 0, step++, 0, 7, 0);
      });
      rows.push(normalsRow(kind, 'randomNormals', n, s, 'Backend.randomNormals, result copied out'));
      if (kind === 'wasm') {
        const low = wasmLowLevel(backend);
        if (typeof low === 'string') ctx.skip('rng', kind, `raw fillNormal: ${low}`);
        else {
          const arena = backend.createArena(n, ['noise']);
          const ptr = pointer(backend, arena, 'noise', { start: 0, count: n });
          try {
            const raw = await ctx.time(() => low.exports.fillNormal(ptr, n, 0, 0, step++, 0, 7, 0));
            rows.push(normalsRow(kind, 'fillNormal', n, raw, 'raw kernel into the arena'));
            const words = await ctx.time(() => low.exports.philoxBlocks(ptr, n / 4, 0, 0, step++, 0, 7, 0));
            const wordsPerS = n / (words.median_ms / 1000);
            const note = `${(wordsPerS / 1e6).toPrecision(4)} M words/s; raw Philox4x32-10 words (one per normal), no Box–Muller`;
            rows.push(measurement({ suite: 'rng', backend: kind, optimizer: null, name: 'philoxBlocks', params: n, workers: 0, note }, words, { bytes: 4 * n }));
          } finally {
            backend.destroyArena(arena);
          }
        }
      }
    } finally {
      await opened.runtime.dispose();
    }
  }
  rows.forEach((r) => ctx.record(r));
  ctx.printTable('rng', rows);
}
