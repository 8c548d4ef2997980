// The published package as its consumers meet it (issue 13): the packed file list against an
// allow-list; no Node built-in or Dawn import reachable from the browser entry; require() from a
// CommonJS program; a Deno program through its node_modules; strict TypeScript consumers
// (skipLibCheck off) on TypeScript 5.x and the repo's TypeScript; and the size budget of the core
// import in a Vite build. Every run of the shared workload is compared bit for bit with Node ESM.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, makeConsumer, packLibrary, REPO, removeConsumer, runScenarioInNode, serveStatic, type Packed, type ScenarioResult } from './consumers/harness.js';

const run = promisify(execFile);
let packed: Packed;
let node: ScenarioResult;
const consumers: string[] = [];

function consumer(name: string, withApp = true): string {
  const dir = makeConsumer(name, packed, { withApp });
  consumers.push(dir);
  return dir;
}

beforeAll(() => {
  packed = packLibrary();
  node = runScenarioInNode(consumer('esbuild'), 0);
});

afterAll(() => {
  for (const dir of consumers) removeConsumer(dir);
  if (packed) removeConsumer(dirname(packed.tarball));
});

/** Files the package may ship: entries, hashed chunks, their maps, the types, LICENSE, README. */
const ALLOWED = [
  /^package\.json$/,
  /^LICENSE$/,
  /^README\.md$/,
  /^dist\/(index|node|federated|kernel-worker|kernel-worker-node)\.js(\.map)?$/,
  /^dist\/federated\.d\.ts$/,
  /^dist\/index\.cjs(\.map)?$/,
  /^dist\/index\.d\.c?ts$/,
  /^dist\/[a-z][a-z0-9-]*-[A-Za-z0-9_-]{8}\.js(\.map)?$/,
];
const REQUIRED = [
  'LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts',
  'dist/node.js', 'dist/kernel-worker.js', 'dist/kernel-worker-node.js',
];

describe('the packed package', () => {
  it('ships exactly the allowed files, every .js with a source map that carries its sources', () => {
    expect(packed.files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)))).toEqual([]);
    for (const file of REQUIRED) expect(packed.files).toContain(file);
    const dir = consumer('esbuild');
    for (const file of packed.files.filter((f) => /\.c?js$/.test(f))) {
      expect(packed.files).toContain(`${file}.map`);
      const map = JSON.parse(readFileSync(join(dir, 'node_modules/ivon-edge', `${file}.map`), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(map.sourcesContent!.every((text) => typeof text === 'string' && text.length > 0), file).toBe(true);
      for (const source of map.sources) expect(source, file).toMatch(/^\.\.\/(src|gpu|workers|node_modules)\//);
    }
    expect(readFileSync(join(dir, 'node_modules/ivon-edge/LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const manifest = JSON.parse(readFileSync(join(dir, 'node_modules/ivon-edge/package.json'), 'utf8')) as { license: string; dependencies?: object };
    expect(manifest.license).toBe('MIT');
    expect(manifest.dependencies ?? {}).toEqual({}); // comlink is bundled; nothing else runs
  });

  it('nothing a browser bundle can reach imports a Node built-in, the Dawn package or any dependency', async () => {
    // esbuild resolves as a browser bundler does (export and import conditions) and lists every
    // file it reached and every import, dynamic ones included.
    const esbuild = await import('esbuild');
    const dir = consumer('esbuild');
    const result = await esbuild.build({
      absWorkingDir: dir,
      stdin: { contents: "import 'ivon-edge'; import 'ivon-edge/kernel-worker';", resolveDir: dir },
      bundle: true,
      splitting: true,
      outdir: join(dir, 'probe'),
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const reached = Object.keys(result.metafile.inputs).filter((path) => path.includes('node_modules/'));
    const imported = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imported.filter((path) => /^node:|^webgpu$/.test(path))).toEqual([]);
    expect(reached.every((path) => path.startsWith('node_modules/ivon-edge/dist/'))).toBe(true);
    const files = new Set(reached.map((path) => path.replace('node_modules/ivon-edge/dist/', '')));
    const dist = join(dir, 'node_modules/ivon-edge/dist');
    // Not reachable from the browser entry: the Node entry, the federated subpath, the worker_threads
    // worker, and chunks only they import (the Node checkpoint files).
    const unreached = readdirSync(dist).filter((f) => f.endsWith('.js') && !files.has(f));
    expect(unreached).toEqual(expect.arrayContaining(['federated.js', 'kernel-worker-node.js', 'node.js']));
    expect(unreached.filter((f) => !/^(federated|kernel-worker-node|node|files-node-[\w-]+|platform-node-[\w-]+)\.js$/.test(f))).toEqual([]);
    // Unbundled too (a CDN, a file:// page): the browser entry's modules import only relative paths.
    for (const file of files) {
      for (const [, specifier] of readFileSync(join(dist, file), 'utf8').matchAll(/^(?:import|export)\b[^'"]*['"]([^'"]+)['"];?$/gm)) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\//);
      }
    }
  });
});

describe('consumers outside the browser', () => {
  it("CommonJS: require('ivon-edge') trains on worker_threads with Node's ESM bits and saves checkpoint files", async () => {
    const dir = consumer('node-cjs');
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: dir, timeout: 60_000 });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { pooled: ScenarioResult; single: ScenarioResult; checkpointKind: string; errorClass: boolean };
    expect(report.pooled.workers).toBe(2);
    expect(report.pooled.description).toMatch(/2 workers .*node workers/);
    for (const result of [report.pooled, report.single]) expect({ mean: result.mean, hess: result.hess }).toEqual({ mean: node.mean, hess: node.hess });
    expect(report.checkpointKind).toBe('ivon');
    expect(report.errorClass).toBe(true);
  });

  it('Deno through npm (offline, the unpacked package in node_modules): Deno workers give the bits of Node', async () => {
    const dir = consumer('deno');
    const { stdout } = await run(join(REPO, 'node_modules/.bin/deno'), ['run', '-A', '--no-prompt', 'main.ts'], {
      cwd: dir,
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(dir, '.deno') },
    });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { pooled: ScenarioResult; single: ScenarioResult; checkpointKind: string; roundTrip: string };
    expect(report.pooled.workers).toBe(2);
    expect(report.pooled.description).toMatch(/2 workers .*deno workers/);
    for (const result of [report.pooled, report.single]) expect({ mean: result.mean, hess: result.hess }).toEqual({ mean: node.mean, hess: node.hess });
    expect(report).toMatchObject({ checkpointKind: 'ivon', roundTrip: 'ivon' });
  });
});

describe.concurrent('strict TypeScript consumers (skipLibCheck: false)', () => {
  let dir: string;
  beforeAll(() => {
    dir = consumer('typescript', false);
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'), 'dir');
  });

  async function typecheck(compiler: 'typescript' | 'typescript5', config: string): Promise<string> {
    const tsc = join(REPO, 'node_modules', compiler, 'bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', config], { cwd: dir, timeout: 120_000 });
      return '';
    } catch (error) {
      return (error as { stdout?: string }).stdout || String(error);
    }
  }

  // Both compilers: ESM and CommonJS under NodeNext with the DOM lib, a bundler app, a Node server
  // without the DOM lib. WebGPU interop with real WebGPU types: TypeScript 6 has them in its DOM
  // lib; TypeScript 5 needs @webgpu/types (with TypeScript 6 that package clashes with the DOM lib
  // by itself, whoever the consumer).
  const setups: Array<['typescript' | 'typescript5', string]> = [
    ['typescript', 'tsconfig.json'],
    ['typescript', 'tsconfig.bundler.json'],
    ['typescript', 'tsconfig.server.json'],
    ['typescript', 'tsconfig.webgpu-dom.json'],
    ['typescript5', 'tsconfig.json'],
    ['typescript5', 'tsconfig.bundler.json'],
    ['typescript5', 'tsconfig.server.json'],
    ['typescript5', 'tsconfig.webgpu.json'],
  ];
  it.each(setups)('%s with %s compiles with no errors', async (compiler, config) => {
    const version = JSON.parse(readFileSync(join(REPO, 'node_modules', compiler, 'package.json'), 'utf8')).version as string;
    expect(version).toMatch(compiler === 'typescript5' ? /^5\./ : /^6\./);
    expect(await typecheck(compiler, config)).toBe('');
  });
});

describe('size budget', () => {
  it('the core import ships ≤ 80 KB min+gzip in a Vite build: every script a page loads (workers included), with and without a worker pool', async () => {
    const { build } = await import('vite');
    const dir = consumer('size', false);
    await build({ root: dir, logLevel: 'warn' });
    const dist = join(dir, 'dist');
    const gzipped = (path: string) => gzipSync(readFileSync(join(dist, path)), { level: 9 }).length;
    const emitted = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
    const browser = await launchChromium();
    try {
      for (const isolated of [true, false]) {
        const server = await serveStatic(dist, isolated);
        const page = await browser.newPage();
        const scripts = new Set<string>();
        // Dedicated workers' requests are reported on the page too, so the kernel worker counts.
        page.on('response', (response) => {
          const path = new URL(response.url()).pathname;
          if (path.endsWith('.js')) scripts.add(path);
        });
        try {
          await page.goto(server.url);
          await page.waitForFunction(() => document.body.dataset.workers !== undefined || document.body.dataset.error !== undefined, undefined, { timeout: 60_000 });
          expect(await page.evaluate(() => document.body.dataset.error)).toBeUndefined();
          const workers = Number(await page.evaluate(() => document.body.dataset.workers));
          const loaded = [...scripts];
          const bytes = loaded.reduce((sum, path) => sum + gzipped(path), 0);
          console.log(`size: ${isolated ? 'isolated page, ' + workers + ' worker(s)' : 'page without isolation'}: ${(bytes / 1000).toFixed(1)} KB min+gzip in ${loaded.length} scripts`);
          if (isolated) expect(loaded.some((path) => /kernel-worker/.test(path)) || workers === 0).toBe(true);
          expect(bytes).toBeLessThanOrEqual(80_000);
        } finally {
          await page.close();
          await server.close();
        }
      }
    } finally {
      await browser.close();
    }
    const total = emitted.reduce((sum, file) => sum + gzipped(`assets/${file}`), 0);
    console.log(`size: everything the build emits (both WASM variants, the WebGPU backend): ${(total / 1000).toFixed(1)} KB min+gzip`);
  });
});
