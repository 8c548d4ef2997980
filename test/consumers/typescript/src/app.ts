// Uses the public surface with its types, as an app would: the runtime and its explanation, an
// optimizer with typed options, the model toolkit, checkpoints, metrics and the error classes.
import {
  AdamW,
  createModelOps,
  createRuntime,
  decodeCheckpoint,
  encodeCheckpoint,
  fit,
  IVON,
  mlp,
  relu,
  WorkerStartError,
  type BufferBinding,
  type FitOptions,
  type IvonOptions,
  type OptimizerSnapshot,
  type Runtime,
  type RuntimeExplanation,
  type TrainableOptimizer,
} from 'ivon-edge';

export async function train(workers: number | 'auto'): Promise<{ explanation: RuntimeExplanation; snapshot: OptimizerSnapshot }> {
  let rt: Runtime;
  try {
    rt = await createRuntime({ backend: ['wasm', 'js'], workers });
  } catch (error) {
    if (error instanceof WorkerStartError) throw new Error(`no pool: ${error.message}`);
    throw error;
  }
  const model = mlp([4, 8, 2], relu);
  const net = model.bind(createModelOps(rt), 16);
  const options: IvonOptions = { params: model.init(0), shapes: model.shapes(), lr: 0.1, ess: 100, seed: 3 };
  const opt = new IVON(rt, options);
  const trainable: TrainableOptimizer = opt;
  const fitOptions: FitOptions = { loss: 'cross-entropy', epochs: 1, batchSize: 4, lr: 0.1 };
  await fit(net, trainable, { x: new Float32Array(32), targets: new Int32Array(8), rows: 8 }, fitOptions);
  const snapshot = await opt.snapshot();
  const again: OptimizerSnapshot = decodeCheckpoint(encodeCheckpoint(snapshot));
  const explanation = rt.explain();
  const warnings: string[] = explanation.warnings;
  void warnings;
  opt.dispose();
  await rt.dispose();
  return { explanation, snapshot: again };
}

export function bindingOf(binding: BufferBinding): { buffer: GPUBuffer; bytes: number } {
  return { buffer: binding.buffer, bytes: binding.size - binding.offset };
}

export const adamwKind = (rt: Runtime) => new AdamW(rt, { params: { w: new Float32Array(2) }, lr: 0.01 }).kind;
