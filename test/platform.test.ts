// The two platforms behind the library's Node-only features (src/platform/): the browser one says
// what to use instead of each missing feature, and the installable one the published package uses
// starts as the browser one and becomes Node's once the Node entry installs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, createRuntime, encodeCheckpoint, IVON } from '../src/index.js';
import * as browser from '../src/platform/browser.js';
import * as installed from '../src/platform/installed.js';
import * as node from '../src/platform/node.js';

describe('browser platform', () => {
  it('file checkpoints fail with a CheckpointError that names the browser alternatives', async () => {
    for (const call of [() => browser.saveCheckpointFile('x', new Uint8Array(1)), () => browser.loadCheckpointFile('x'), () => browser.loadCheckpoint('x')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toMatch(/checkpoint files need Node or Deno: this is the browser entry of ivon-edge.*saveCheckpointToOpfs.*downloadCheckpoint/);
    }
  });

  it('worker_threads, file: URLs, Dawn and node:os are absent, each saying so or answering "none"', async () => {
    await expect(browser.createNodeAdapter()).rejects.toThrow(/worker_threads are unavailable: this is the browser entry.*bundle for Node/);
    await expect(browser.readFileUrl(new URL('file:///k.wasm'))).rejects.toThrow(/file: URLs are readable only in Node and Deno; serve the file over http\(s\), or pass its bytes/);
    expect(await browser.getNodeGpu()).toBeUndefined();
    expect(await browser.availableCores()).toBeUndefined();
  });
});

describe('installable platform (what dist/ uses)', () => {
  it('is the browser platform until the Node entry installs Node, then reads and writes real files', async () => {
    await expect(installed.loadCheckpointFile('x')).rejects.toThrow(/need Node or Deno/);
    expect(await installed.availableCores()).toBeUndefined();
    installed.installPlatform(node);
    expect(await installed.availableCores()).toBeGreaterThanOrEqual(1);
    const rt = await createRuntime({ backend: 'js' });
    const opt = new IVON(rt, { params: { w: Float32Array.of(1, -2, 3) }, lr: 0.1, ess: 10, seed: 5 });
    const dir = mkdtempSync(join(tmpdir(), 'ivon-platform-'));
    try {
      const path = join(dir, 'opt.safetensors');
      const snapshot = await opt.snapshot();
      await installed.saveCheckpoint(path, snapshot);
      expect(await installed.loadCheckpointFile(path)).toEqual(encodeCheckpoint(snapshot));
      expect((await installed.loadCheckpoint(path)).kind).toBe('ivon');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      opt.dispose();
      await rt.dispose();
    }
  });
});
