// The core import: a runtime and one IVON step (no top-level await, so older build targets take it).
import { createRuntime, IVON } from 'ivon-edge';

async function main() {
  const rt = await createRuntime();
  const opt = new IVON(rt, { params: { w: new Float32Array(16) }, lr: 0.1, ess: 100 });
  await opt.sampledParams((ctx) => ctx.setGrad('w', ctx.theta('w')));
  await opt.step();
  document.body.textContent = `${rt.backend}: ${(await opt.read('w')).mean[0]}`;
}

main();
