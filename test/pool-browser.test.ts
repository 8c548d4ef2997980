// The worker pool in headless Chromium (Web Worker adapter, module workers loaded from the page's
// origin): with COOP/COEP the page is crossOriginIsolated and 1..3 workers give the same bits as
// the main thread alone and as Node; without the headers there is no SharedArrayBuffer and the
// runtime degrades to the main thread and says so.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleModule, serve } from './browser-pool/build.js';
import { trainProgram, type ProgramResult } from './browser-pool/program.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

interface PageOutcome {
  crossOriginIsolated: boolean;
  hasSharedArrayBuffer: boolean;
  results: ProgramResult[];
}

describe('worker pool in headless Chromium', () => {
  let browser: Browser;
  let modules: Record<string, string>;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (this test must not be skipped)`);
    modules = {
      '/page.js': await bundleModule(fileURLToPath(new URL('./browser-pool/page.ts', import.meta.url))),
      // The Web adapter's default worker URL is ./kernel-worker.js next to the module that starts it.
      '/kernel-worker.js': await bundleModule(fileURLToPath(new URL('../workers/kernel-worker.js', import.meta.url))),
    };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function runPage(isolated: boolean): Promise<PageOutcome> {
    const server = await serve(modules, isolated);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => typeof (globalThis as { runPool?: unknown }).runPool === 'function', undefined, { timeout: 30_000 });
      return (await page.evaluate(() => (globalThis as unknown as { runPool: () => Promise<unknown> }).runPool())) as PageOutcome;
    } catch (error) {
      throw new Error(`${(error as Error).message}; page errors: ${errors.join(' | ')}`);
    } finally {
      await page.close();
      await server.close();
    }
  }

  it('with COOP/COEP: 1..3 Web Workers give the bits of the main thread and of Node', async () => {
    const outcome = await runPage(true);
    expect(outcome.crossOriginIsolated).toBe(true);
    expect(outcome.results.map((r) => r.workers)).toEqual([0, 1, 2, 3]);
    expect(outcome.results[2].description).toMatch(/2 workers \+ the main thread .*web workers/);
    const node = await trainProgram({ backend: 'wasm' });
    for (const result of outcome.results) {
      expect(result.mean).toEqual(node.mean);
      expect(result.hess).toEqual(node.hess);
    }
    expect(node.mean.some((x, i) => x !== Math.fround(Math.cos(i) * 0.5))).toBe(true);
  });

  it('without the headers: no SharedArrayBuffer, so every request runs on the main thread and explain() says why', async () => {
    const outcome = await runPage(false);
    expect(outcome.crossOriginIsolated).toBe(false);
    expect(outcome.hasSharedArrayBuffer).toBe(false);
    const node = await trainProgram({ backend: 'wasm' });
    for (const result of outcome.results) {
      expect(result.workers).toBe(0);
      expect(result.mean).toEqual(node.mean);
    }
    expect(outcome.results[3].reason).toMatch(/main thread only, because SharedArrayBuffer is unavailable because the page is not cross-origin isolated/);
  });
});
