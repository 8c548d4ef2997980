// Plumbing for the consumer tests (test/consumers-*.test.ts): pack the library as npm would
// publish it, make a fresh consumer project from a fixture with the tarball unpacked as
// node_modules/ivon-edge (what `npm install ./ivon-edge.tgz` does, without the registry), serve a
// built app with or without COOP/COEP, and run it in headless Chromium collecting console errors.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('.', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
// PLATFORM.md: Debian's Chromium, headless, no downloads, no background traffic.
const CHROMIUM_FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

export interface Packed {
  tarball: string;
  /** Paths inside the package, as `npm pack` lists them. */
  files: string[];
}

/** `npm pack` of the built library (dist/ must exist: `npm run build`, which `npm test` runs). */
export function packLibrary(): Packed {
  if (!existsSync(join(REPO, 'dist/index.js')) || !existsSync(join(REPO, 'dist/index.d.ts'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  }
  const destination = mkdtempSync(join(tmpdir(), 'ivon-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], { cwd: REPO, encoding: 'utf8' });
  const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: join(destination, info.filename), files: info.files.map((f) => f.path).sort() };
}

/**
 * A fresh consumer project in a temporary folder: the fixture test/consumers/<name> over the
 * shared app (test/consumers/app, unless withApp is false), and the tarball unpacked as
 * node_modules/ivon-edge. @webgpu/types is linked from the repo's node_modules, as a TypeScript 5
 * app doing WebGPU interop would have installed it (the library itself has no dependencies).
 */
export function makeConsumer(name: string, packed: Packed, options: { withApp?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `ivon-consumer-${name}-`));
  if (options.withApp ?? true) cpSync(join(FIXTURES, 'app'), dir, { recursive: true });
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const target = join(dir, 'node_modules/ivon-edge');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['xzf', packed.tarball, '-C', target, '--strip-components=1']);
  mkdirSync(join(dir, 'node_modules/@webgpu'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules/@webgpu/types'), join(dir, 'node_modules/@webgpu/types'), 'dir');
  return dir;
}

/** Removes a consumer project (or the pack's temporary folder). */
export function removeConsumer(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** A static server for a built app, with the cross-origin isolation headers or without them. */
export async function serveStatic(root: string, isolated: boolean): Promise<Served> {
  const server = http.createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    const headers: Record<string, string> = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {};
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (the consumer tests must not be skipped)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}

/** What one run of the scenario (app/src/scenario.js) reports. */
export interface ScenarioResult {
  workers: number;
  description: string;
  warnings: string[];
  /** The posterior mean and curvature after the run, as float32 bit patterns (hex). */
  mean: string;
  hess: string;
}

export interface PageResult {
  crossOriginIsolated: boolean;
  mainThread: ScenarioResult;
  worker: ScenarioResult;
  /** console.error messages, uncaught errors and failed requests, in order. */
  errors: string[];
}

/** Opens the app, waits for window.__consumer, and returns it with every error the page logged. */
export async function runApp(browser: Browser, url: string): Promise<PageResult> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => response.status() >= 400 && errors.push(`HTTP ${response.status()}: ${response.url()}`));
  try {
    await page.goto(url);
    const handle = await page.waitForFunction(() => (globalThis as { __consumer?: unknown }).__consumer, undefined, { timeout: 60_000 });
    const outcome = (await handle.jsonValue()) as { result?: Omit<PageResult, 'errors'>; error?: string };
    if (outcome.error) throw new Error(`the app failed: ${outcome.error}`);
    return { ...outcome.result!, errors };
  } catch (error) {
    throw new Error(`${(error as Error).message}\npage errors: ${errors.join(' | ') || 'none'}`);
  } finally {
    await page.close();
  }
}

/** The scenario in Node, from the consumer project (a plain `node` process importing ivon-edge). */
export function runScenarioInNode(dir: string, workers: number): ScenarioResult {
  const script = `import { runScenario } from './src/scenario.js'; console.log(JSON.stringify(await runScenario({ workers: ${workers} })));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as ScenarioResult;
}

export const fixturePath = (...parts: string[]): string => join(FIXTURES, ...parts);
