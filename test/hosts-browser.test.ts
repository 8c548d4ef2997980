// Electron-like and webview-like hosts in headless Chromium: a page opened from file:// and a page
// served without cross-origin isolation (what an Android WebView loading a plain URL gets) each run
// a small IVON training with createRuntime() as an app calls it, get the bits Node gets, and
// explain() says why they run without workers. From file://, ES module scripts need the
// --allow-file-access-from-files switch (Electron: a custom protocol instead, docs/HOSTS.md); a
// classic-script build needs nothing — both are checked, and so is the failure without the switch.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostOutcome } from './browser-hosts/app.js';
import { serve, type Served } from './browser-pool/build.js';
import { trainProgram, type ProgramResult } from './browser-pool/program.js';
import { bundleForBrowser } from '../tools/browser-bundle.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const APP = fileURLToPath(new URL('./browser-hosts/app.ts', import.meta.url));

/** The app as one file: an ES module, or a classic script (IIFE) as a bundler's non-module output. */
async function bundleApp(format: 'es' | 'iife'): Promise<string> {
  return (await bundleForBrowser(APP, format)).code;
}

async function openApp(browser: Browser, url: string, startMs = 15_000): Promise<{ outcome?: HostOutcome; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  try {
    await page.goto(url);
    const ready = await page
      .waitForFunction(() => typeof (globalThis as { runApp?: unknown }).runApp === 'function', undefined, { timeout: startMs })
      .then(() => true, () => false);
    if (!ready) return { errors };
    return { outcome: await page.evaluate(() => (globalThis as unknown as { runApp: () => Promise<HostOutcome> }).runApp()), errors };
  } finally {
    await page.close();
  }
}

function expectDegradedLikeNode(outcome: HostOutcome | undefined, node: ProgramResult): void {
  expect(outcome, 'the app did not start').toBeDefined();
  expect(outcome!.crossOriginIsolated).toBe(false);
  expect(outcome!.hasSharedArrayBuffer).toBe(false);
  expect(outcome!.backend).toBe('wasm');
  expect(outcome!.workers).toBe(0);
  expect(outcome!.mean).toEqual(node.mean);
  expect(outcome!.hess).toEqual(node.hess);
}

describe('file:// and non-isolated hosts in headless Chromium', () => {
  let dir: string;
  let node: ProgramResult;
  let plain: Browser;
  let fileAccess: Browser;
  let server: Served;
  beforeAll(async () => {
    const [moduleApp, classicApp] = await Promise.all([bundleApp('es'), bundleApp('iife')]);
    dir = mkdtempSync(join(tmpdir(), 'ivon-hosts-'));
    writeFileSync(join(dir, 'app.js'), moduleApp);
    writeFileSync(join(dir, 'app-classic.js'), classicApp);
    writeFileSync(join(dir, 'module.html'), '<!doctype html><meta charset="utf-8"><title>app</title><script type="module" src="./app.js"></script>');
    writeFileSync(join(dir, 'classic.html'), '<!doctype html><meta charset="utf-8"><title>app</title><script src="./app-classic.js"></script>');
    server = await serve({ '/page.js': moduleApp, '/favicon.ico': '' }, false); // no favicon 404 in the console
    plain = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    fileAccess = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, '--allow-file-access-from-files'] });
    // The same program in Node, on the backend the pages degrade to.
    node = await trainProgram({ backend: 'wasm', workers: 0 });
    expect(node.mean.some((x, i) => x !== Math.fround(Math.cos(i) * 0.5))).toBe(true);
  });
  afterAll(async () => {
    await plain?.close();
    await fileAccess?.close();
    await server?.close();
  });

  it('file:// with --allow-file-access-from-files (Electron-like): ES modules run, bits of Node, explain() names file:// and the fix', async () => {
    const { outcome, errors } = await openApp(fileAccess, pathToFileURL(join(dir, 'module.html')).href);
    expect(errors).toEqual([]);
    expect(outcome?.protocol).toBe('file:');
    expectDegradedLikeNode(outcome, node);
    expect(outcome!.reason).toMatch(/wasm on one thread: .*main thread only, because SharedArrayBuffer is unavailable because the page was opened from file:\/\/, which cannot be cross-origin isolated \(Electron: load the app from a privileged custom protocol/);
  });

  it('file:// with a classic-script build needs no switch; an ES module from file:// without it is blocked by Chromium (CORS, origin null)', async () => {
    const classic = await openApp(plain, pathToFileURL(join(dir, 'classic.html')).href);
    expect(classic.errors).toEqual([]);
    expectDegradedLikeNode(classic.outcome, node);
    expect(classic.outcome!.reason).toMatch(/opened from file:\/\//);
    const blocked = await openApp(plain, pathToFileURL(join(dir, 'module.html')).href, 3000);
    expect(blocked.outcome).toBeUndefined();
    expect(blocked.errors.join('\n')).toMatch(/CORS policy|origin 'null'/);
  });

  it('http without COOP/COEP (Android WebView-like): runs on one thread with the bits of Node, explain() says to send the headers', async () => {
    const { outcome, errors } = await openApp(plain, server.url);
    expect(errors).toEqual([]);
    expect(outcome?.protocol).toBe('http:');
    expectDegradedLikeNode(outcome, node);
    expect(outcome!.reason).toMatch(/main thread only, because SharedArrayBuffer is unavailable because the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/);
  });
});
