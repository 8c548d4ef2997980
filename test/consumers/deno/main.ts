// A Deno consumer: the shared scenario on two kernel workers (Deno Web Workers) and on one thread,
// and a checkpoint file round trip (the package's "deno" condition gives the file helpers).
import * as ivon from 'ivon-edge';
import { ivonRun } from './src/ivon-run.js';

const runScenario = (options: { workers: number }) => ivonRun(ivon, options);

const pooled = await runScenario({ workers: 2 });
const single = await runScenario({ workers: 0 });

const rt = await ivon.createRuntime({ backend: 'js' });
const opt = new ivon.IVON(rt, { params: { w: Float32Array.of(1, 2, 3) }, lr: 0.1, ess: 10, seed: 1 });
const path = await Deno.makeTempFile({ suffix: '.safetensors' });
await ivon.saveCheckpoint(path, await opt.snapshot());
const restored = await ivon.loadCheckpoint(path);
const bytes = await ivon.loadCheckpointFile(path);
await Deno.remove(path);
opt.dispose();
await rt.dispose();

console.log(JSON.stringify({ pooled, single, checkpointKind: restored.kind, roundTrip: ivon.decodeCheckpoint(bytes).kind }));
