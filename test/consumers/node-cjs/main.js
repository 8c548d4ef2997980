// A CommonJS consumer: require('ivon-edge') (the package's index.cjs) runs the shared workload on
// two worker_threads and on one thread, and round-trips a checkpoint file.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const ivon = require('ivon-edge');

async function main() {
  const { ivonRun } = await import('./src/ivon-run.js');
  const pooled = await ivonRun(ivon, { workers: 2 });
  const single = await ivonRun(ivon, { workers: 0 });
  const rt = await ivon.createRuntime({ backend: 'js' });
  const opt = new ivon.IVON(rt, { params: { w: Float32Array.of(1, 2, 3) }, lr: 0.1, ess: 10, seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'ivon-cjs-'));
  await ivon.saveCheckpoint(join(dir, 'opt.safetensors'), await opt.snapshot());
  const restored = await ivon.loadCheckpoint(join(dir, 'opt.safetensors'));
  rmSync(dir, { recursive: true });
  opt.dispose();
  await rt.dispose();
  const errorClass = new ivon.WorkerStartError('x') instanceof Error;
  console.log(JSON.stringify({ pooled, single, checkpointKind: restored.kind, errorClass }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
