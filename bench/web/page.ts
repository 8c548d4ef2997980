// The browser bench page (`npm run bench:web`): the harness's suites (bench/harness.ts) on wasm,
// wasm with workers and WebGPU in this browser, the same tables the CLI prints, the ratios as a
// table and an SVG chart, and the same JSON as `npm run bench -- --out` as a download. Options come
// from the URL (bench/web/query.ts) or the form; ?run starts at once. The state is also on
// globalThis.ivonBench for automation (the headless test reads it).

import { formatRatios } from '../format.js';
import { runBench } from '../harness.js';
import type { BenchHost } from '../host.js';
import { BACKENDS, SUITES, type BenchOptions } from '../options.js';
import type { Report } from '../results.js';
import { describeBrowserPlatform } from './platform-web.js';
import { ratiosSvg } from './plot.js';
import { optionsFromQuery, queryOf } from './query.js';

interface PageState {
  status: 'idle' | 'running' | 'done' | 'failed';
  report?: Report;
  error?: string;
  log: string[];
}

const state: PageState = { status: 'idle', log: [] };
(globalThis as { ivonBench?: PageState }).ivonBench = state;

// The kernel worker is built next to this bundle (bench/web/build.ts); naming it keeps the pool
// independent of how the library locates its worker by default.
const HOST: BenchHost = {
  loadTfjs: async () => 'TensorFlow.js is not bundled into the browser page (its rows come from the CLI: npm run bench)',
  runtimeOptions: { workerUrl: new URL('./kernel-worker.js', import.meta.url) },
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function environmentLine(): string {
  const gpu = 'gpu' in navigator ? 'navigator.gpu present' : 'no navigator.gpu (WebGPU rows will be skipped)';
  const isolation = globalThis.crossOriginIsolated
    ? 'cross-origin isolated: SharedArrayBuffer and workers available'
    : 'NOT cross-origin isolated (no COOP/COEP headers, or not a secure context): no SharedArrayBuffer, so the workers suite is skipped';
  return `${navigator.hardwareConcurrency ?? '?'} logical cores · ${gpu} · ${isolation}`;
}

function renderForm(options: BenchOptions): void {
  const boxes = (name: string, all: readonly string[], chosen: readonly string[]) =>
    all.map((v) => `<label><input type="checkbox" name="${name}" value="${v}"${chosen.includes(v) ? ' checked' : ''}> ${v}</label>`).join(' ');
  $('form').innerHTML = `
    <div>suites: ${boxes('suite', SUITES, options.suites)}</div>
    <div>backends: ${boxes('backend', BACKENDS, options.backends)}</div>
    <div><label>sizes <input name="sizes" value="${options.sizes?.join(',') ?? ''}" placeholder="default: 1M (quick) or 1M,4M,16M" size="28"></label>
      <label>workers <input name="workers" value="${options.workers.join(',')}" size="6"></label>
      <label><input type="checkbox" name="quick"${options.quick ? ' checked' : ''}> quick</label></div>`;
}

function formQuery(): URLSearchParams {
  const form = $<HTMLFormElement>('form');
  const checked = (name: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)].map((i) => i.value).join(',');
  const query = new URLSearchParams({ suite: checked('suite'), backend: checked('backend'), quick: form.querySelector<HTMLInputElement>('input[name=quick]')!.checked ? '1' : '0' });
  const sizes = form.querySelector<HTMLInputElement>('input[name=sizes]')!.value.trim();
  if (sizes) query.set('sizes', sizes);
  query.set('workers', form.querySelector<HTMLInputElement>('input[name=workers]')!.value.trim());
  return query;
}

function print(line: string): void {
  state.log.push(line);
  $('log').textContent += `${line}\n`;
}

function renderRatios(report: Report): void {
  $('ratios').textContent = report.ratios.length > 0 ? formatRatios(report.ratios) : 'no ratios in this run';
  $('plot').innerHTML = ratiosSvg(report.ratios);
}

function download(report: Report): void {
  const blob = new Blob([`${JSON.stringify(report, null, 2)}\n`], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `ivon-edge-bench-${report.platform.date.replace(/[:.]/g, '-')}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function run(options: BenchOptions): Promise<void> {
  state.status = 'running';
  state.log = [];
  $('log').textContent = '';
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('download').disabled = true;
  const query = queryOf(options);
  history.replaceState(null, '', `?${query}`);
  const platform = describeBrowserPlatform([query], options.quick);
  print(`ivon-edge bench — ${platform.runtime} ${platform.version}, ${platform.cores} cores, ${platform.os}${options.quick ? ' (quick)' : ''}`);
  try {
    const report = await runBench(options, platform, HOST, {
      print,
      onSuite: (suite, i, n) => void ($('status').textContent = `running ${suite} (${i + 1} of ${n})…`),
    });
    state.report = report;
    state.status = 'done';
    $('status').textContent = `done: ${report.results.length} measurements, ${report.ratios.length} ratios, ${report.skipped.length} skipped`;
    renderRatios(report);
    $<HTMLButtonElement>('download').disabled = false;
  } catch (error) {
    state.status = 'failed';
    state.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    $('status').textContent = `failed: ${state.error}`;
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
  }
}

function start(): void {
  $('environment').textContent = environmentLine();
  const query = new URLSearchParams(location.search);
  let options: BenchOptions;
  try {
    options = optionsFromQuery(query);
  } catch (error) {
    $('status').textContent = `bad options in the address: ${(error as Error).message}`;
    state.status = 'failed';
    state.error = (error as Error).message;
    return;
  }
  renderForm(options);
  $('run').addEventListener('click', () => {
    try {
      void run(optionsFromQuery(formQuery()));
    } catch (error) {
      $('status').textContent = `bad options: ${(error as Error).message}`;
    }
  });
  $('download').addEventListener('click', () => state.report && download(state.report));
  if (query.has('run')) void run(options);
}

start();
