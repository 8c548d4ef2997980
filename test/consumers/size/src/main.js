// The core import: a runtime and one IVON step.
import { createRuntime, IVON } from 'ivon-edge';

const rt = await createRuntime();
const opt = new IVON(rt, { params: { w: new Float32Array(16) }, lr: 0.1, ess: 100 });
await opt.sampledParams((ctx) => ctx.setGrad('w', ctx.theta('w')));
await opt.step();
document.body.textContent = `${rt.backend}: ${(await opt.read('w')).mean[0]}`;
