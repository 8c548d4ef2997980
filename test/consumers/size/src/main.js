// The core import: a wasm runtime (a worker pool where the page is cross-origin isolated) and one
// IVON step. No top-level await, so older build targets take it.
import { createRuntime, IVON } from 'ivon-edge';

async function main() {
  const rt = await createRuntime({ backend: 'wasm', workers: 'auto' });
  const opt = new IVON(rt, { params: { w: new Float32Array(16) }, lr: 0.1, ess: 100 });
  await opt.sampledParams((ctx) => ctx.setGrad('w', ctx.theta('w')));
  await opt.step();
  document.body.dataset.workers = String(rt.workers);
  opt.dispose();
  await rt.dispose();
}

main().catch((error) => (document.body.dataset.error = String(error)));
