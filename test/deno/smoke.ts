// Deno smoke check of the WebGPU backend through navigator.gpu: runs the shared scenario and
// prints one JSON line that test/webgpu-deno.test.ts compares with the TypeScript reference.
// Run: deno run -A --sloppy-imports test/deno/smoke.ts (sloppy imports map our `.js` specifiers to `.ts`).

import { createWebGpuBackend } from '../../gpu/webgpu-backend.js';
import { runScenario } from '../browser/scenario.js';

const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
const report: Record<string, unknown> = { navigatorGpu: Boolean(nav?.gpu) };
try {
  const backend = await createWebGpuBackend();
  report.adapter = backend.adapterDescription;
  report.result = await runScenario(backend);
  await backend.dispose();
  report.ok = true;
} catch (err) {
  report.ok = false;
  report.error = String((err as Error).stack ?? err);
}
console.log(JSON.stringify(report));
