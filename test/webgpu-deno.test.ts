// Deno smoke test: the WebGPU backend through Deno's own navigator.gpu (npm `deno` binary, our
// TypeScript sources run directly). Its Philox bits must equal the TypeScript reference's, its
// normals agree within 4 ulp and its golden steps match IVON.md §7. No adapter fails the test.

import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { JsBackend } from '../src/backends/js.js';
import { GOLDEN } from './oracle/golden.js';
import { runScenario, type ScenarioResult } from './browser/scenario.js';

const root = resolve(import.meta.dirname, '..');

function ulps(a: number, b: number): number {
  const i = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (x: number) => (x < 0 ? 0x80000000 - x : x);
  return Math.abs(ordered(i[0]) - ordered(i[1]));
}

describe('webgpu in Deno (navigator.gpu)', () => {
  it('finds an adapter and reproduces the reference bits, normals and golden steps', async () => {
    const { stdout } = await promisify(execFile)(
      resolve(root, 'node_modules/.bin/deno'),
      ['run', '-A', '--sloppy-imports', '--no-prompt', 'test/deno/smoke.ts'],
      { cwd: root, timeout: 180_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } },
    );
    const lastLine = stdout.trim().split('\n').at(-1)!;
    const report = JSON.parse(lastLine) as { ok: boolean; error?: string; navigatorGpu: boolean; adapter?: string; result?: ScenarioResult };
    expect(report.navigatorGpu).toBe(true);
    expect(report.error).toBeUndefined();
    expect(report.ok).toBe(true);
    const got = report.result!;
    const want = await runScenario(new JsBackend());
    expect(got.katZero).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(got.bits).toEqual(want.bits);
    expect(Math.max(...got.normals.map((z, i) => ulps(z, want.normals[i])))).toBeLessThanOrEqual(4);
    got.golden.forEach((step, s) => {
      for (const key of ['theta', 'mean', 'hess', 'momentum'] as const) {
        const err = Math.max(...step[key].map((x, i) => Math.abs(x - GOLDEN[s][key][i]) / Math.max(1, Math.abs(GOLDEN[s][key][i]))));
        expect(err, `step ${s + 1} ${key}`).toBeLessThanOrEqual(1e-5);
      }
    });
  });
});
