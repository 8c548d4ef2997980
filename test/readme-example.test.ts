// The README's toolkit example is examples/quickstart.ts; this keeps it runnable and meaningful.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('README quickstart', () => {
  it('trains on the bundled digits and reports a sensible Bayesian model average', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts', '8'], { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(['wasm', 'js']).toContain(r.backend);
    expect(r.accuracy).toBeGreaterThan(0.85);
    expect(r.nll).toBeLessThan(0.6);
    expect(r.ece).toBeGreaterThanOrEqual(0);
    expect(r.ece).toBeLessThan(0.2);
    expect(r.meanEntropy).toBeGreaterThan(0);
    expect(r.meanEntropy).toBeLessThan(Math.log(10));
  });
});
