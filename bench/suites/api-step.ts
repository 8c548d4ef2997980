// One training step through the public optimizer API with no model: the callback only marks every
// gradient, as a model that writes all of them would take them (ctx.grad(name, { overwrite: true })
// on CPU backends, so no zero-fill; ctx.gradBinding on the GPU), so what is timed is the optimizer's
// own cost per step as a user pays it: the non-finite check, the kernels, the bookkeeping.

import { AdamW } from '../../src/optim/adamw.js';
import { IVON } from '../../src/optim/ivon.js';
import { SGD } from '../../src/optim/sgd.js';
import type { SampleContext } from '../../src/optim/sample-context.js';
import type { Runtime } from '../../src/runtime.js';

export interface ApiStep {
  run: () => Promise<void>;
  dispose: () => void;
}

export function apiStep(runtime: Runtime, optimizer: 'ivon' | 'adamw' | 'sgd', n: number): ApiStep {
  const params = { w: new Float32Array(n).fill(0.05) };
  const opt =
    optimizer === 'ivon'
      ? new IVON(runtime, { params, lr: 0.1, ess: 1e4 })
      : optimizer === 'adamw'
        ? new AdamW(runtime, { params, lr: 1e-3, weightDecay: 1e-2 })
        : new SGD(runtime, { params, lr: 0.1, momentum: 0.9 });
  const onGpu = runtime.compute.kind === 'webgpu';
  const markGrads = (ctx: SampleContext) => {
    if (onGpu) ctx.gradBinding('w');
    else ctx.grad('w', { overwrite: true });
    return 0;
  };
  return {
    run: async () => {
      await opt.sampledParams(markGrads, { train: true });
      await opt.step();
    },
    dispose: () => (opt as { dispose?: () => void }).dispose?.(),
  };
}
