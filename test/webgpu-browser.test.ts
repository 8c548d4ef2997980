// The WebGPU backend in a real browser: headless Debian Chromium (SwiftShader adapter through
// --enable-unsafe-webgpu) loads the bundled library in a crossOriginIsolated page, runs the shared
// scenario and must produce the TypeScript reference's Philox bits, its normals within 4 ulp, and
// the IVON.md §7 golden steps. No adapter in the page is a failure, not a skip.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsBackend } from '../src/backends/js.js';
import { GOLDEN } from './oracle/golden.js';
import type { PageOutcome } from './browser/page-entry.js';
import { runScenario, type ScenarioResult } from './browser/scenario.js';
import { bundle, servePage, type PageServer } from './browser/serve.js';

const root = resolve(import.meta.dirname, '..');
const distDir = resolve(root, 'dist');
const useDist = existsSync(resolve(distDir, 'index.js'));

// Flags measured on this machine: a secure origin (127.0.0.1) plus --enable-unsafe-webgpu is
// what gives headless Linux Chromium its SwiftShader adapter; the rest keep it off the network.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

function ulps(a: number, b: number): number {
  const i = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (x: number) => (x < 0 ? 0x80000000 - x : x);
  return Math.abs(ordered(i[0]) - ordered(i[1]));
}

function maxRel(got: number[], want: number[], floor: number): number {
  expect(got.length).toBe(want.length);
  return Math.max(...want.map((w, i) => Math.abs(got[i] - w) / Math.max(Math.abs(w), floor)));
}

describe(`webgpu in headless Chromium (library: ${useDist ? 'dist/index.js' : 'bundle of gpu/'})`, () => {
  let server: PageServer;
  let browser: Browser;
  let outcome: PageOutcome;
  let reference: ScenarioResult;

  beforeAll(async () => {
    const modules: Record<string, string> = { '/page.js': await bundle(resolve(root, 'test/browser/page-entry.ts')) };
    if (!useDist) modules['/lib/index.js'] = await bundle(resolve(root, 'test/browser/fallback-lib.ts'));
    const html =
      '<!doctype html><meta charset="utf-8"><title>ivon-edge webgpu</title>' +
      '<script type="importmap">{"imports":{"ivon-edge":"/lib/index.js"}}</script>' +
      '<script type="module" src="/page.js"></script>';
    server = await servePage(html, modules, useDist ? distDir : undefined);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    page.on('pageerror', (e) => console.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(() => 'ivonOutcome' in globalThis, undefined, { timeout: 30_000 });
    outcome = await page.evaluate(() => (globalThis as unknown as { ivonOutcome: Promise<PageOutcome> }).ivonOutcome);
    if (!outcome.ok) throw new Error(`the page failed: ${outcome.error}\nconsole: ${console.join('\n')}`);
    reference = await runScenario(new JsBackend());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('gets a WebGPU adapter in a crossOriginIsolated page', () => {
    expect(outcome.ok).toBe(true);
    expect(outcome.description).toMatch(/^WebGPU on /);
    expect(outcome.crossOriginIsolated).toBe(true);
  });

  it('produces the Philox bits of the TypeScript reference exactly', () => {
    expect(outcome.result!.katZero).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(outcome.result!.bits).toEqual(reference.bits);
  });

  it('produces the reference normals within 4 ulp, and the same sampled noise within 1e-6', () => {
    const got = outcome.result!;
    expect(Math.max(...got.normals.map((z, i) => ulps(z, reference.normals[i])))).toBeLessThanOrEqual(4);
    expect(maxRel(got.sampledNoise, reference.sampledNoise, 1e-3)).toBeLessThanOrEqual(1e-6);
  });

  it('reproduces the golden vectors of IVON.md §7 (1e-5) and the Node reference steps (1e-6)', () => {
    outcome.result!.golden.forEach((step, s) => {
      for (const key of ['theta', 'mean', 'hess', 'momentum'] as const) {
        expect(maxRel(step[key], GOLDEN[s][key], 1), `step ${s + 1} ${key} vs golden`).toBeLessThanOrEqual(1e-5);
        expect(maxRel(step[key], reference.golden[s][key], 1e-2), `step ${s + 1} ${key} vs reference`).toBeLessThanOrEqual(1e-6);
      }
    });
  });
});
