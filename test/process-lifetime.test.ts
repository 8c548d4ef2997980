// A script that only awaits training must not exit early: the worker pool and the GPU backend
// keep Node's event loop alive while their work is pending, and let it go after dispose().
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

if (!existsSync('dist/node.js')) throw new Error('dist/node.js is missing: run `npm run build` (npm test does) before this test');

describe.each(['wasm', 'webgpu'])('a plain Node script training on %s', (backend) => {
  it('runs every step, prints its result and exits 0 (4 runs: the early exit was timing-dependent)', () => {
    for (let run = 0; run < 4; run++) check();
  });

  function check(): void {
    const out = execFileSync(process.execPath, ['test/fixtures/train-and-exit.mjs', backend], { encoding: 'utf8', timeout: 90_000 });
    const lines = out.trim().split('\n');
    expect(lines.pop()).toBe('disposed');
    const result = JSON.parse(lines.pop()!);
    expect(result.backend).toBe(backend);
    expect(result.steps).toBe(4);
    if (backend === 'wasm') expect(result.workers).toBe(1);
    // Four steps against a constant positive gradient move the mean down from 0.1.
    expect(result.mean0).toBeLessThan(0.1);
    expect(result.mean0).toBeGreaterThan(0);
  }
});
