// The backend choice against simulated platforms: a laptop with a GPU, a software-only adapter,
// an Android WebView (no SharedArrayBuffer), an engine without SIMD, one core, tiny models, and
// forced or ordered backends.
import { describe, expect, it } from 'vitest';
import type { PlatformProbe } from '../src/scheduler/probe.js';
import { selectBackend, type SelectionRequest } from '../src/scheduler/select.js';

const LAPTOP: PlatformProbe = {
  environment: 'browser',
  cores: 8,
  webgpu: { available: true, adapter: 'nvidia / ampere', software: false, limits: { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 32, maxComputeWorkgroupsPerDimension: 65535 } },
  wasm: { available: true, simd: true },
  sharedMemory: { available: true, sharedArrayBuffer: true, crossOriginIsolated: true, sharedWasmMemory: true, atomicsWaitAsync: true, workers: true },
};

const AUTO: SelectionRequest = { order: ['webgpu', 'wasm', 'js'], forced: false, workers: 'auto', gpuMinElements: 262144, minElementsPerWorker: 32768 };

const withProbe = (patch: Partial<PlatformProbe>): PlatformProbe => ({ ...LAPTOP, ...patch });
const NO_GPU = { available: false, reason: 'navigator.gpu offers no adapter' };
const NO_SAB = {
  available: false, sharedArrayBuffer: false, crossOriginIsolated: false, sharedWasmMemory: false, atomicsWaitAsync: true, workers: true,
  reason: 'SharedArrayBuffer is unavailable because the page is not cross-origin isolated',
};

describe('selectBackend', () => {
  it('keeps a model of unknown size on the CPU (the 7-worker pool, then js) even with a hardware adapter, and says how to get the GPU', () => {
    const s = selectBackend(LAPTOP, AUTO);
    expect(s.candidates).toEqual([{ kind: 'wasm', workers: 7 }, { kind: 'js' }]);
    expect(s.refused.webgpu).toMatch(/^model size unknown: 'auto' uses the GPU \(nvidia \/ ampere\) only for expectedParams ≥ gpuMinElements 262144; give expectedParams, or backend: 'webgpu'/);
    expect(s.reason).toMatch(/^wasm with 7 worker thread\(s\) plus the main thread: .*refused: webgpu: model size unknown/);
    // A list that names the GPU first is the user's choice: no size needed.
    expect(selectBackend(LAPTOP, { ...AUTO, forced: true }).candidates[0]).toEqual({ kind: 'webgpu' });
  });

  it('keeps a model below gpuMinElements on the CPU, with as many workers as it has shards of work', () => {
    const s = selectBackend(LAPTOP, { ...AUTO, expectedParams: 100_000 });
    expect(s.candidates[0]).toEqual({ kind: 'wasm', workers: 2 }); // 100000 / 32768 = 3 shards: main + 2
    expect(s.refused.webgpu).toMatch(/expectedParams 100000 < gpuMinElements 262144/);
    const big = selectBackend(LAPTOP, { ...AUTO, expectedParams: 262144 });
    expect(big.candidates[0]).toEqual({ kind: 'webgpu' });
  });

  it('runs a tiny model on the main thread only', () => {
    const s = selectBackend(withProbe({ webgpu: NO_GPU }), { ...AUTO, expectedParams: 5000 });
    expect(s.candidates[0]).toEqual({ kind: 'wasm', workers: 0 });
    expect(s.reason).toMatch(/too small to shard/);
  });

  it('refuses a software adapter in auto mode but accepts it when forced', () => {
    const soft = withProbe({ webgpu: { ...LAPTOP.webgpu, adapter: 'google / swiftshader', software: true } });
    const auto = selectBackend(soft, AUTO);
    expect(auto.candidates[0]).toEqual({ kind: 'wasm', workers: 7 });
    expect(auto.refused.webgpu).toMatch(/software rasterizer/);
    const forced = selectBackend(soft, { ...AUTO, order: ['webgpu'], forced: true, workers: 0 });
    expect(forced.candidates).toEqual([{ kind: 'webgpu' }]);
  });

  it('without a GPU adapter uses the pool and says why the GPU was refused', () => {
    const s = selectBackend(withProbe({ webgpu: NO_GPU }), AUTO);
    expect(s.candidates[0]).toEqual({ kind: 'wasm', workers: 7 });
    expect(s.refused.webgpu).toBe('navigator.gpu offers no adapter');
    expect(s.reason).toMatch(/refused: webgpu: navigator.gpu offers no adapter/);
  });

  it('without SharedArrayBuffer (Android WebView, file://) degrades to one thread and says so', () => {
    const s = selectBackend(withProbe({ webgpu: NO_GPU, sharedMemory: NO_SAB }), { ...AUTO, workers: 4 });
    expect(s.candidates[0]).toEqual({ kind: 'wasm', workers: 0 });
    expect(s.reason).toMatch(/main thread only, because SharedArrayBuffer is unavailable because the page is not cross-origin isolated/);
  });

  it('without WASM SIMD falls back to plain TypeScript', () => {
    const s = selectBackend(withProbe({ webgpu: NO_GPU, wasm: { available: true, simd: false, reason: 'WebAssembly SIMD (v128) is not supported by this engine' } }), AUTO);
    expect(s.candidates).toEqual([{ kind: 'js' }]);
    expect(s.refused.wasm).toMatch(/SIMD/);
    expect(s.reason).toMatch(/^js: the portable fallback/);
  });

  it('on one core uses no workers; an explicit worker count is honoured on many cores', () => {
    expect(selectBackend(withProbe({ cores: 1, webgpu: NO_GPU }), AUTO).candidates[0]).toEqual({ kind: 'wasm', workers: 0 });
    expect(selectBackend(LAPTOP, { ...AUTO, order: ['wasm'], forced: true, workers: 3 }).candidates).toEqual([{ kind: 'wasm', workers: 3 }]);
    expect(selectBackend(LAPTOP, { ...AUTO, order: ['wasm'], forced: true, workers: 0 }).candidates).toEqual([{ kind: 'wasm', workers: 0 }]);
  });

  it('follows a user order and lists every refusal when nothing can run', () => {
    expect(selectBackend(LAPTOP, { ...AUTO, order: ['js', 'wasm'], forced: true }).candidates.map((c) => c.kind)).toEqual(['js', 'wasm']);
    const none = selectBackend(withProbe({ webgpu: NO_GPU, wasm: { available: false, simd: false, reason: 'WebAssembly is not available' } }), {
      ...AUTO, order: ['webgpu', 'wasm'], forced: true,
    });
    expect(none.candidates).toEqual([]);
    expect(none.refused).toEqual({ webgpu: 'navigator.gpu offers no adapter', wasm: 'WebAssembly is not available' });
  });
});
