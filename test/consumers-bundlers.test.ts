// The proof that bundled apps keep the worker pool (issue 13): the packed library is installed
// into fresh Vite (8, and 6), webpack 5, esbuild and Rollup apps that run a fixed IVON scenario on
// the main thread and inside their own module Web Worker; each build is served with and without COOP/COEP and opened
// in headless Chromium. Asserted: a clean build (no warnings about Node built-ins), 2 kernel
// workers wherever the page is cross-origin isolated (0 and a warning naming the fix where it is
// not), bit-for-bit the numbers of Node on one thread and on two workers, and no console errors
// or failed requests. Also: workerUrl from Vite's `?url` import of 'ivon-edge/kernel-worker', and
// a build that lost the kernel worker failing loudly (WorkerStartError naming cause and fix).
import { copyFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  makeConsumer,
  packLibrary,
  removeConsumer,
  runApp,
  runScenarioInNode,
  serveStatic,
  type PageResult,
  type Packed,
  type ScenarioResult,
} from './consumers/harness.js';

let packed: Packed;
let browser: Browser;
let node: ScenarioResult;
const consumers: string[] = [];

function consumer(name: string): string {
  const dir = makeConsumer(name, packed);
  consumers.push(dir);
  return dir;
}

beforeAll(async () => {
  packed = packLibrary();
  browser = await launchChromium();
  const dir = consumer('esbuild');
  node = runScenarioInNode(dir, 0);
  // Node itself: two worker_threads give the bits of one thread.
  const nodePool = runScenarioInNode(dir, 2);
  expect(nodePool.workers).toBe(2);
  expect({ mean: nodePool.mean, hess: nodePool.hess }).toEqual({ mean: node.mean, hess: node.hess });
});

afterAll(async () => {
  await browser?.close();
  for (const dir of consumers) removeConsumer(dir);
  if (packed) removeConsumer(dirname(packed.tarball));
});

/** The page's two runs against Node's bits, with the worker count isolation allows. */
function expectSameAsNode(page: PageResult, isolated: boolean): void {
  expect(page.errors).toEqual([]);
  expect(page.crossOriginIsolated).toBe(isolated);
  for (const run of [page.mainThread, page.worker]) {
    expect({ mean: run.mean, hess: run.hess }).toEqual({ mean: node.mean, hess: node.hess });
    if (isolated) {
      expect(run.workers).toBe(2);
      expect(run.description).toMatch(/2 workers .*web workers/);
      expect(run.warnings).toEqual([]);
    } else {
      expect(run.workers).toBe(0);
      expect(run.warnings).toEqual([expect.stringMatching(/workers: 2 was asked for, but the worker pool cannot run here .*Cross-Origin-Opener-Policy/)]);
    }
  }
}

async function checkServed(root: string): Promise<void> {
  for (const isolated of [true, false]) {
    const server = await serveStatic(root, isolated);
    try {
      expectSameAsNode(await runApp(browser, server.url), isolated);
    } finally {
      await server.close();
    }
  }
}

describe('bundled consumer apps keep the worker pool', () => {
  it('Vite: build, served with and without COOP/COEP', async () => {
    const { build, createLogger } = await import('vite');
    const dir = consumer('vite');
    const logger = createLogger('warn');
    const warnings: string[] = [];
    logger.warn = (message) => void warnings.push(message);
    logger.warnOnce = (message) => void warnings.push(message);
    await build({ root: dir, configFile: join(dir, 'vite.config.js'), customLogger: logger });
    expect(warnings).toEqual([]);
    await checkServed(join(dir, 'dist'));
  });

  it("Vite: workerUrl from `import url from 'ivon-edge/kernel-worker?url'`, served with and without COOP/COEP", async () => {
    const { build } = await import('vite');
    const dir = consumer('vite-worker-url');
    await build({ root: dir, configFile: join(dir, 'vite.config.js'), logLevel: 'warn' });
    await checkServed(join(dir, 'dist'));
  });

  it('Vite: dev server (with COOP/COEP)', async () => {
    const { createServer } = await import('vite');
    const dir = consumer('vite');
    const server = await createServer({ root: dir, configFile: join(dir, 'vite.config.js'), server: { host: '127.0.0.1', port: 0 } });
    await server.listen();
    try {
      const url = server.resolvedUrls!.local[0];
      expectSameAsNode(await runApp(browser, url), true);
    } finally {
      await server.close();
    }
  });

  it('webpack 5: build with the defaults, served with and without COOP/COEP', async () => {
    const { default: webpack } = await import('webpack');
    const dir = consumer('webpack');
    const { default: config } = await import(join(dir, 'webpack.config.js'));
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) =>
      webpack(config, (error, result) => (error || !result ? reject(error ?? new Error('webpack: no stats')) : resolve(result))),
    );
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    expect(info.errors ?? []).toEqual([]);
    // webpack's size hints (performance budget of 244 KiB) are about the app, not the library.
    expect((info.warnings ?? []).filter((w) => !/exceed the recommended size limit|webpack performance recommendations/.test(w.message))).toEqual([]);
    copyFileSync(join(dir, 'index.html'), join(dir, 'dist/index.html'));
    await checkServed(join(dir, 'dist'));
  });

  it('esbuild: the kernel worker as an entry point of its own, served with and without COOP/COEP', async () => {
    const esbuild = await import('esbuild');
    const dir = consumer('esbuild');
    const { default: options } = await import(join(dir, 'build.js'));
    const result = await esbuild.build(options);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    copyFileSync(join(dir, 'index.html'), join(dir, 'dist/index.html'));
    await checkServed(join(dir, 'dist'));
  });

  it('Rollup: the kernel worker as an input of its own, served with and without COOP/COEP', async () => {
    const { rollup } = await import('rollup');
    const { nodeResolve } = await import('@rollup/plugin-node-resolve');
    const dir = consumer('rollup');
    const { default: makeOptions } = await import(join(dir, 'rollup.options.js'));
    const { output, ...input } = makeOptions({ nodeResolve });
    const warnings: string[] = [];
    const bundle = await rollup({ ...input, onwarn: (warning) => void warnings.push(warning.message) });
    await bundle.write(output);
    await bundle.close();
    expect(warnings).toEqual([]);
    copyFileSync(join(dir, 'index.html'), join(dir, 'dist/index.html'));
    await checkServed(join(dir, 'dist'));
  });

  it('Vite 6: build with worker.format es (what Vite 6 needs for any code-split worker, here the app\'s own)', async () => {
    const { build } = await import('vite6');
    const dir = consumer('vite');
    await build({ root: dir, configFile: join(dir, 'vite.config.js'), logLevel: 'warn', worker: { format: 'es' } });
    await checkServed(join(dir, 'dist'));
    // With Vite 6's defaults (iife workers) an app that uses the library on its main thread builds
    // too: the kernel worker is self-contained, so its worker build needs no code splitting.
    const mainThreadOnly = makeConsumer('size', packed, { withApp: false });
    consumers.push(mainThreadOnly);
    await build({ root: mainThreadOnly, logLevel: 'warn' });
    expect(readdirSync(join(mainThreadOnly, 'dist/assets')).some((file) => /^kernel-worker.*\.js$/.test(file))).toBe(true);
  });

  it('esbuild without the kernel worker entry: the explicit worker count fails loudly, naming the cause and the fix', async () => {
    const esbuild = await import('esbuild');
    const dir = consumer('esbuild');
    const { default: options } = await import(join(dir, 'build.js'));
    const { 'kernel-worker': _dropped, ...entryPoints } = options.entryPoints;
    await esbuild.build({ ...options, entryPoints });
    copyFileSync(join(dir, 'index.html'), join(dir, 'dist/index.html'));
    const server = await serveStatic(join(dir, 'dist'), true);
    try {
      const failure = await runApp(browser, server.url).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/WorkerStartError: createRuntime: workers: 2 was asked for, but the worker pool did not start \(kernel worker \d+ did not start .*kernel-worker\.js.*\)\. Fix: .*workerUrl/s);
      expect(failure).toMatch(/HTTP 404: .*\/kernel-worker\.js/);
    } finally {
      await server.close();
    }
  });
});
