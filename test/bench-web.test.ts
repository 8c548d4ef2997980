// The browser bench page (`npm run bench:web`) in headless Debian Chromium: served with COOP/COEP
// it runs every suite on wasm, wasm with a worker and WebGPU (SwiftShader), shows the tables and
// the ratio chart, and its Download button gives the JSON the CLI writes for the same options —
// the same rows and ratios as the harness run in Node, TensorFlow.js's yardstick rows aside. A
// screenshot goes to out/bench-web.png (a CI artefact). The static build serves the same files,
// and from a host without the headers the page still runs, without workers, and says why.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../bench/harness.js';
import { NODE_HOST } from '../bench/host-node.js';
import { describePlatform } from '../bench/platform-node.js';
import { validateReport, type Measurement, type Report } from '../bench/results.js';
import { buildBenchPage } from '../bench/web/build.js';
import { plottedRatios, ratiosSvg } from '../bench/web/plot.js';
import { optionsFromQuery, queryOf } from '../bench/web/query.js';
import { serveBenchPage, writeBenchPage, type BenchServer } from '../bench/web/serve.js';
import { releaseWebGpu } from '../bench/backends.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
// Every suite, the smallest sizes that still exercise the pool and the GPU, the quick plan.
const QUERY = 'suite=optimizer,rng,bandwidth,workers,webgpu,gemm,epoch&backend=wasm,webgpu&sizes=64K&workers=1&quick=1';
const OUT = resolve(import.meta.dirname, '../out');

interface PageState {
  status: string;
  report?: Report;
  error?: string;
  log: string[];
}

const rowKey = (m: Measurement) => `${m.suite}/${m.backend}/${m.optimizer ?? '-'}/${m.name}/${m.params}/${m.workers}`;
const notTfjs = (backend: string | null) => !backend?.startsWith('tfjs');

async function runPage(page: Page, url: string): Promise<PageState> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => ['done', 'failed'].includes((globalThis as { ivonBench?: { status: string } }).ivonBench?.status ?? ''), undefined, { timeout: 400_000, polling: 500 });
  const state = await page.evaluate(() => (globalThis as unknown as { ivonBench: PageState }).ivonBench);
  if (state.status !== 'done') throw new Error(`the bench page failed: ${state.error}\npage errors: ${errors.join(' | ')}`);
  expect(errors).toEqual([]);
  return state;
}

describe('bench page pieces (Node)', () => {
  it('reads its options from the address with the CLI names and checks, and writes them back', () => {
    const options = optionsFromQuery(new URLSearchParams(QUERY));
    expect(options).toMatchObject({ suites: ['optimizer', 'rng', 'bandwidth', 'workers', 'webgpu', 'gemm', 'epoch'], backends: ['wasm', 'webgpu'], sizes: [65536], workers: [1], quick: true });
    expect(optionsFromQuery(new URLSearchParams(queryOf(options)))).toEqual(options);
    expect(optionsFromQuery(new URLSearchParams('')).backends).toEqual(['wasm', 'webgpu']);
    expect(optionsFromQuery(new URLSearchParams('')).suites).toEqual(['optimizer', 'rng', 'bandwidth', 'workers', 'webgpu', 'gemm', 'epoch']); // the Node-only posterior suite is left out
    expect(() => optionsFromQuery(new URLSearchParams('suite=optimiser'))).toThrow(/suite: unknown 'optimiser'; choose from optimizer, rng/);
    expect(() => optionsFromQuery(new URLSearchParams('sizes=100'))).toThrow(/multiples of 16/);
    expect(() => optionsFromQuery(new URLSearchParams('backends=wasm'))).toThrow(/unknown page option 'backends'/);
  });

  it('plots the dimensionless ratios on a log axis, coloured by target, with no NaN coordinates', () => {
    const base = { backend: 'wasm', params: 65536, workers: 0 };
    const ratios = [
      { ...base, name: 'IVON step / AdamW step', value: 4.5, unit: '×', target: { op: '<=' as const, value: 3 }, meets: false },
      { ...base, name: 'AdamW GB/s / triad probe GB/s', value: 1.2, unit: '', target: { op: '>=' as const, value: 0.6 }, meets: true },
      { ...base, name: 'Philox words / whole normals (time)', value: 0.5, unit: '', target: null, meets: null },
      { ...base, name: 'fillNormal normals/s', value: 300, unit: 'M/s', target: null, meets: null },
    ];
    expect(plottedRatios(ratios).map((r) => r.name)).toEqual(ratios.slice(0, 3).map((r) => r.name));
    const svg = ratiosSvg(ratios);
    expect(svg.match(/<rect /g)).toHaveLength(3);
    expect(svg).toContain('fill="#c0392b"'); // misses its target
    expect(svg).toContain('fill="#2a8a3a"'); // meets it
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(ratiosSvg([])).toContain('no dimensionless ratios');
  });

  it('bundles the page without a static Node import, and the static build writes the served files plus _headers', async () => {
    const files = await buildBenchPage();
    expect(Object.keys(files).sort()).toEqual(['bench.js', 'index.html', 'kernel-worker.js']);
    expect(files['index.html']).toContain('<script type="module" src="./bench.js">');
    const dir = mkdtempSync(join(tmpdir(), 'bench-web-'));
    await writeBenchPage(dir);
    expect(readdirSync(dir).sort()).toEqual(['_headers', 'bench.js', 'index.html', 'kernel-worker.js']);
    expect(readFileSync(join(dir, 'bench.js'), 'utf8')).toBe(files['bench.js']);
    expect(readFileSync(join(dir, '_headers'), 'utf8')).toMatch(/Cross-Origin-Opener-Policy: same-origin\n\s+Cross-Origin-Embedder-Policy: require-corp/);
  });
});

describe('bench page in headless Chromium', () => {
  let browser: Browser;
  let isolated: BenchServer;
  let plain: BenchServer;
  beforeAll(async () => {
    isolated = await serveBenchPage({ isolated: true });
    plain = await serveBenchPage({ isolated: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    await plain?.close();
  });

  it('runs every suite on wasm, wasm + 1 worker and WebGPU, shows tables and chart, and downloads the JSON the CLI writes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    try {
      const state = await runPage(page, `${isolated.url}?run&${QUERY}`);
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
      // Download what the button gives and check it against the CLI's schema and rows.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toMatch(/^ivon-edge-bench-.*\.json$/);
      const downloaded = validateReport(JSON.parse(readFileSync((await download.path())!, 'utf8')) as Report);
      expect(downloaded).toEqual(JSON.parse(JSON.stringify(state.report)));
      expect(downloaded.platform.runtime).toMatch(/^browser \(Chromium\)/);
      // Only TensorFlow.js (CLI only) may be skipped: every suite ran on every backend.
      expect(downloaded.skipped.filter((s) => notTfjs(s.backend))).toEqual([]);
      for (const r of downloaded.ratios) expect(Number.isFinite(r.value), r.name).toBe(true);
      expect(downloaded.results.some((m) => m.suite === 'workers' && m.workers === 1)).toBe(true);
      expect(downloaded.results.some((m) => m.suite === 'webgpu' && m.backend === 'webgpu')).toBe(true);
      expect(downloaded.gpu?.software).toBe(true);
      // The same options in Node give the same rows and ratios.
      const node = await runBench(optionsFromQuery(new URLSearchParams(QUERY)), describePlatform([], true), NODE_HOST, { print: () => {} });
      await releaseWebGpu();
      const keys = (r: Report) => r.results.filter((m) => notTfjs(m.backend)).map(rowKey).sort();
      expect(keys(downloaded)).toEqual(keys(node));
      const ratioKeys = (r: Report) => r.ratios.filter((x) => !x.name.includes('TF.js') && !x.name.includes('tfjs')).map((x) => `${x.name}/${x.backend}/${x.params}/${x.workers}`).sort();
      expect(ratioKeys(downloaded)).toEqual(ratioKeys(node));
      // What the page shows: the tables, the ratios and one bar per dimensionless ratio.
      expect(await page.textContent('#log')).toContain('median ms');
      expect(await page.locator('#plot svg rect').count()).toBe(plottedRatios(downloaded.ratios).length);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'bench-web.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 480_000); // the page's run and the same run in Node: ~40 s each on an idle 2-core machine, WebGPU over SwiftShader included

  it('from a host without COOP/COEP: runs, skips only the workers suite, and says why', async () => {
    const page = await browser.newPage();
    try {
      const state = await runPage(page, `${plain.url}?run&suite=optimizer,workers&backend=wasm&sizes=4K&workers=1&quick=1`);
      expect(await page.textContent('#environment')).toMatch(/NOT cross-origin isolated/);
      const report = state.report!;
      expect(report.results.some((m) => m.suite === 'optimizer' && m.backend === 'wasm')).toBe(true);
      expect(report.skipped.filter((s) => notTfjs(s.backend))).toEqual([
        { suite: 'workers', backend: 'wasm', reason: expect.stringMatching(/asked for 1 workers, the runtime reports 0/) },
      ]);
    } finally {
      await page.close();
    }
  });
});
