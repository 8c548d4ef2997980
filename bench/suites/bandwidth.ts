// Suite 'bandwidth': the copy/triad probes and every memory-bound kernel's achieved GB/s from the
// bytes it must move (bench/bytes.ts), per CPU backend and size, all in the same run so the
// kernel/probe ratios (bench/ratios.ts) compare like with like.


import { bytesMoved } from '../bytes.js';
import { sizesFor } from '../options.js';
import type { SuiteContext } from '../context.js';
import { adamwWork, ivonWork, PROBE_ROLES, sgdWork } from '../kernel-work.js';
import { cpuProbes } from '../probes.js';
import { measurement, type Measurement } from '../results.js';

export async function runBandwidthSuite(ctx: SuiteContext): Promise<void> {
  ctx.log('\n## bandwidth: copy/triad probes and each kernel\'s GB/s from the bytes it must move');
  const rows: Measurement[] = [];
  for (const kind of ctx.options.backends) {
    if (kind === 'webgpu') continue; // the 'webgpu' suite runs the GPU probes
    const opened = await ctx.openRuntime(kind);
    if (!opened.ok) {
      ctx.skip('bandwidth', kind, opened.reason);
      continue;
    }
    const backend = opened.backend;
    try {
      for (const n of sizesFor(ctx.options)) {
        const base = { suite: 'bandwidth', backend: kind, params: n, workers: 0 };
        const arena = backend.createArena(n, PROBE_ROLES);
        const range = { start: 0, count: n };
        for (const role of PROBE_ROLES) backend.fill(arena, role, range, 0.5);
        try {
          const probes = cpuProbes(backend, arena, range);
          if (typeof probes === 'string') ctx.skip('bandwidth', kind, `probes: ${probes}`);
          else {
            for (const name of ['copy', 'triad'] as const) {
              const s = await ctx.time(probes[name]);
              rows.push(measurement({ ...base, optimizer: null, name, note: probes.source }, s, { bytes: bytesMoved(name, n) }));
            }
          }
        } finally {
          backend.destroyArena(arena);
        }
        const kernels = [
          { optimizer: 'ivon', make: ivonWork, names: ['ivonSample', 'ivonUpdateFused'] as const },
          { optimizer: 'adamw', make: adamwWork, names: ['adamwUpdate'] as const },
          { optimizer: 'sgd', make: sgdWork, names: ['sgdUpdate'] as const },
        ];
        for (const k of kernels) {
          const kw = k.make(backend, n);
          try {
            for (const name of k.names) {
              const s = await ctx.time(kw.work[name]);
              rows.push(measurement({ ...base, optimizer: k.optimizer, name }, s, { bytes: bytesMoved(name, n) }));
            }
          } finally {
            kw.dispose();
          }
        }
      }
    } finally {
      await opened.runtime.dispose();
    }
  }
  rows.forEach((r) => ctx.record(r));
  ctx.printTable('bandwidth', rows);
}
