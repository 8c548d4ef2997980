// Checkpoints in a real browser: headless Chromium loads the bundled library, trains a few IVON
// steps, saves to the Origin Private File System, reloads into a fresh optimizer (bit-identical
// state), and downloads the checkpoint as a Blob, whose bytes Node then decodes and compares.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../src/index.js';
import { servePage, type PageServer } from './browser/serve.js';

const root = resolve(import.meta.dirname, '..');
const distDir = resolve(root, 'dist');
if (!existsSync(resolve(distDir, 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` (npm test does) before this test');

const PAGE = `<!doctype html><meta charset="utf-8"><title>ivon-edge checkpoints</title>
<script type="importmap">{"imports":{"ivon-edge":"/lib/index.js"}}</script>
<script type="module">
import { createRuntime, IVON, saveCheckpointToOpfs, loadCheckpointFromOpfs, downloadCheckpoint } from 'ivon-edge';
globalThis.run = async () => {
  const rt = await createRuntime({ backend: 'wasm', workers: 0 });
  const make = () => new IVON(rt, { params: { w: new Float32Array(37).fill(0.25) }, lr: 0.1, ess: 50, seed: 3 });
  const opt = make();
  for (let i = 0; i < 3; i++) {
    await opt.sampledParams((ctx) => { const t = ctx.theta('w'); const g = ctx.grad('w'); for (let j = 0; j < t.length; j++) g[j] = 2 * t[j] - 1; });
    await opt.step();
  }
  const bytes = await opt.saveState();
  await saveCheckpointToOpfs('posterior', bytes);
  const again = await loadCheckpointFromOpfs('posterior');
  const fresh = make();
  await fresh.loadState(again);
  const a = await opt.read('w'), b = await fresh.read('w');
  downloadCheckpoint(bytes, 'posterior.safetensors');
  return {
    same: Array.from(again).every((x, i) => x === bytes[i]) && again.length === bytes.length,
    step: fresh.stepCount,
    mean: Array.from(a.mean), meanLoaded: Array.from(b.mean),
    hess: Array.from(a.hess), hessLoaded: Array.from(b.hess),
  };
};
globalThis.ready = true;
</script>`;

describe('checkpoints in headless Chromium (bundled library)', () => {
  let server: PageServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    server = await servePage(PAGE, {}, distDir);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(() => 'ready' in globalThis, undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`page did not load: ${errors.join('\n')}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('saves to OPFS, reloads bit-identically, and downloads bytes Node can decode', async () => {
    const [download, result] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.evaluate(() => (globalThis as unknown as { run(): Promise<Record<string, unknown>> }).run()),
    ]);
    expect(result.same).toBe(true);
    expect(result.step).toBe(3);
    expect(result.meanLoaded).toEqual(result.mean);
    expect(result.hessLoaded).toEqual(result.hess);
    expect((result.mean as number[]).some((m) => m !== 0.25)).toBe(true); // training moved the weights
    expect(download.suggestedFilename()).toBe('posterior.safetensors');
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const snapshot = decodeCheckpoint(bytes, { expect: { kind: 'ivon', shapes: { w: [37] } } });
    expect(snapshot.step).toBe(3);
    expect(Array.from(snapshot.tensors.w.mean)).toEqual(result.mean);
    expect(Array.from(snapshot.tensors.w.hess!)).toEqual(result.hess);
  });
});
