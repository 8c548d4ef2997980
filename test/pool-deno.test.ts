// The worker pool in Deno (npm `deno` binary running our TypeScript sources): IVON sharded over a
// Deno Web Worker on one shared WebAssembly.Memory gives the single-thread bits.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

describe('worker pool in Deno', () => {
  it('shards over a Deno worker and reproduces the single-thread run bit for bit', async () => {
    const { stdout } = await promisify(execFile)(
      resolve(root, 'node_modules/.bin/deno'),
      ['run', '-A', '--sloppy-imports', '--no-prompt', 'test/deno/pool.ts'],
      { cwd: root, timeout: 120_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; error?: string; pooledWorkers: number; backend: string; same: boolean; mean0: number };
    expect(report.error).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.backend).toBe('wasm');
    expect(report.pooledWorkers).toBe(1);
    expect(report.same).toBe(true);
    expect(report.mean0).toBeLessThan(0.3); // training moved the weights
  });
});
