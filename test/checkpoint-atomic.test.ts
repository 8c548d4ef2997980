// Atomic saves: a child process saves large checkpoints over an existing one in a loop and is
// SIGKILLed at several moments. Whatever the moment, the file at the final path must decode to one
// complete, known version (the previous one or a newer one), never a torn mix.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.js';
import { largeSnapshot, largeValue } from './fixtures/large-snapshot.js';

const ELEMENTS = 3_000_000; // 3 tensors x 12 MB: a write takes long enough to be interrupted
const CHILD = fileURLToPath(new URL('./fixtures/atomic-saver.ts', import.meta.url));
const KILL_DELAYS_MS = [0, 15, 40, 80, 150, 250, 400];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivon-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts the saver, waits until it has built its checkpoints, lets it write for delayMs, kills it. */
function runAndKill(path: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(ELEMENTS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`saver exited by itself (code ${code}): ${stderr}`));
    });
  });
}

function expectComplete(snapshot: Awaited<ReturnType<typeof loadCheckpoint>>): void {
  expect([100, 101, 102]).toContain(snapshot.step);
  const { mean, hess, momentum } = snapshot.tensors.w;
  expect(mean.length).toBe(ELEMENTS);
  for (const [role, data] of [mean, hess as Float32Array, momentum as Float32Array].entries()) {
    for (let i = 0; i < ELEMENTS; i += 997) {
      if (data[i] !== largeValue(snapshot.step, role, i)) throw new Error(`role ${role} element ${i} is ${data[i]}`);
    }
    expect(data[ELEMENTS - 1]).toBe(largeValue(snapshot.step, role, ELEMENTS - 1));
  }
}

describe('atomic checkpoint saves', () => {
  it('a SIGKILL at any point of a save leaves a complete checkpoint at the final path', async () => {
    const path = join(dir, 'model.ckpt');
    await saveCheckpoint(path, largeSnapshot(ELEMENTS, 100));
    const stepsSeen = new Set<number>();
    let killsMidWrite = 0;
    for (const delay of KILL_DELAYS_MS) {
      await runAndKill(path, delay);
      const snapshot = await loadCheckpoint(path);
      expectComplete(snapshot);
      stepsSeen.add(snapshot.step);
      const names = await readdir(dir);
      const temps = names.filter((n) => n !== 'model.ckpt');
      for (const t of temps) expect(t).toMatch(/^model\.ckpt\.tmp-\d+-[0-9a-f]{16}$/);
      expect(names).toContain('model.ckpt');
      if (temps.length > 0) killsMidWrite++;
      for (const t of temps) await rm(join(dir, t));
    }
    // The kills really landed inside writes (a temp file was left behind), and saves did complete.
    expect(killsMidWrite).toBeGreaterThan(0);
    expect(stepsSeen.has(101) || stepsSeen.has(102)).toBe(true);
  }, 120_000);
});
