// Suite 'federated': what one round of federated IVON (src/federated, docs/FEDERATED.md) costs beside
// the training it coordinates, at each size with 10 clients. Timed in alternation in one run: one
// local epoch of a client (IVON, MLP 64-H-H-10 with H chosen so the model has about the size's
// parameters, a tenth of the digits' 1438 training rows, batch 32) and the round's overhead:
// encoding an update, one message's transfer through an MQTT broker on loopback (aedes in this
// process: client publish → coordinator receipt), decoding an update, aggregating 10 updates
// (precision-weighted product) and encoding the global. The ratio row is the per-round overhead —
// one client's encode + two transfers (up, down) + its decode of the global, plus the coordinator's
// 10 decodes, aggregation and encode — over one local epoch; and the bytes each client moves per round.

import { openRuntime } from '../backends.js';
import { reasonOf, type SuiteContext } from '../context.js';
import { sizesFor } from '../cli.js';
import { measurement, type Measurement } from '../results.js';

const CLIENTS = 10;
const CLIENT_ROWS = 144;

function hiddenFor(params: number): number {
  return Math.max(8, Math.floor((-76 + Math.sqrt(76 * 76 + 4 * (params - 10))) / 2));
}

export async function runFederatedSuite(ctx: SuiteContext): Promise<void> {
  ctx.log(`\n## federated: per-round overhead of federated IVON (10 clients) vs one local epoch, and bytes per client per round`);
  let mods;
  try {
    const [network, layers, fitModule, runtimeOps, ivon, wire, aggregate, posterior, mqtt, broker] = await Promise.all([
      import('../../src/nn/network.js'),
      import('../../src/nn/layers.js'),
      import('../../src/nn/fit.js'),
      import('../../src/nn/runtime-ops.js'),
      import('../../src/optim/ivon.js'),
      import('../../src/federated/wire.js'),
      import('../../src/federated/aggregate.js'),
      import('../../src/posterior/state.js'),
      import('../../src/federated/mqtt.js'),
      import('../../examples/federated-broker.js'),
    ]);
    mods = { network, layers, fitModule, runtimeOps, ivon, wire, aggregate, posterior, mqtt, broker };
  } catch (error) {
    ctx.skip('federated', null, `src/federated, mqtt or aedes is not available: ${reasonOf(error)}`);
    return;
  }
  const backend = ctx.options.backends.includes('wasm') ? 'wasm' : 'js';
  const opened = await openRuntime(backend, { workers: 0 });
  if (!opened.ok) return ctx.skip('federated', backend, opened.reason);
  const server = await mods.broker.startBroker();
  const coordinator = await mods.mqtt.connectMqtt({ url: server.url, clientId: 'bench-coordinator' });
  const client = await mods.mqtt.connectMqtt({ url: server.url, clientId: 'bench-client' });
  let deliver: (() => void) | undefined;
  await coordinator.subscribe('bench/update/+', () => deliver?.());
  const rows: Measurement[] = [];
  try {
    for (const size of sizesFor(ctx.options)) {
      const hidden = hiddenFor(size);
      const model = mods.network.mlp([64, hidden, hidden, 10], mods.layers.relu);
      const init = model.init(1);
      const params = Object.values(init).reduce((n, v) => n + v.length, 0);
      const net = model.bind(mods.runtimeOps.createModelOps(opened.runtime), 32);
      let s = 99;
      const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const data = { x: Float32Array.from({ length: CLIENT_ROWS * 64 }, next), targets: Float64Array.from({ length: CLIENT_ROWS }, () => Math.floor(next() * 10)), rows: CLIENT_ROWS };
      const ess = 10 * CLIENT_ROWS;
      const opt = new mods.ivon.IVON(opened.runtime, { params: init, shapes: model.shapes(), lr: 0.1, ess, weightDecay: 1.5 / ess, hessInit: 1 });
      try {
        await mods.fitModule.fit(net, opt, data, { loss: 'cross-entropy', epochs: 1, batchSize: 32, lr: 0.1, seed: 1 });
        const posterior = await mods.posterior.posteriorOf(opt);
        const global = { params: Object.fromEntries(Object.entries(posterior.params).map(([n, p]) => [n, { ...p, ess: ess * CLIENTS, priorPrecision: p.priorPrecision.map((d) => d / CLIENTS) }])) };
        const header = { session: 'bench', round: 0, final: false };
        const updateBytes = mods.wire.encodeMessage({ ...header, kind: 'update', sender: 'client0', posterior });
        const globalBytes = mods.wire.encodeMessage({ ...header, kind: 'global', sender: 'coordinator', posterior: global });
        const shapes = model.shapes();
        const decoded = mods.wire.decodeMessage(updateBytes, { shapes }).posterior;
        const updates = Array.from({ length: CLIENTS }, (_, k) => ({ client: `client${k}`, posterior: decoded }));
        const limits = { maxEss: 1e9 };
        const transfer = () =>
          new Promise<void>((resolve, reject) => {
            deliver = resolve;
            client.publish('bench/update/client0', updateBytes).catch(reject);
          });
        const parts: Array<[string, () => unknown, string]> = [
          ['local-epoch', () => mods.fitModule.fit(net, opt, data, { loss: 'cross-entropy', epochs: 1, batchSize: 32, lr: 0.1, seed: 2 }), `${CLIENT_ROWS} rows, batch 32, MLP 64-${hidden}-${hidden}-10`],
          ['encode-update', () => mods.wire.encodeMessage({ ...header, kind: 'update', sender: 'client0', posterior }), `${updateBytes.length} bytes`],
          ['transfer', transfer, `one ${updateBytes.length}-byte message, aedes on loopback, QoS 1`],
          ['decode-update', () => mods.wire.decodeMessage(updateBytes, { shapes }), 'validated'],
          ['aggregate-10', () => mods.aggregate.aggregateValidated('product', global, updates, limits), `${CLIENTS} decoded updates, float64, the coordinator's path`],
          ['encode-global', () => mods.wire.encodeMessage({ ...header, kind: 'global', sender: 'coordinator', posterior: global }), `${globalBytes.length} bytes`],
        ];
        const summaries = await ctx.timeInterleaved(parts.map(([, run]) => async () => void (await run())));
        const ms: Record<string, number> = {};
        parts.forEach(([name, , note], i) => {
          ms[name] = summaries[i].median_ms;
          rows.push(measurement({ suite: 'federated', backend, optimizer: name === 'local-epoch' ? 'ivon' : null, name, params, workers: 0, note }, summaries[i], { perElement: name !== 'local-epoch' }));
        });
        const clientSide = ms['encode-update'] + 2 * ms.transfer + ms['decode-update'];
        const coordinatorSide = CLIENTS * ms['decode-update'] + ms['aggregate-10'] + ms['encode-global'];
        const overhead = clientSide + coordinatorSide;
        ctx.log(
          `  ${params} params: per-round overhead ${overhead.toFixed(1)} ms = ${(overhead / ms['local-epoch']).toFixed(3)} local epochs ` +
            `(client ${clientSide.toFixed(1)} ms, coordinator ${coordinatorSide.toFixed(1)} ms, epoch ${ms['local-epoch'].toFixed(1)} ms); ` +
            `bytes per client per round: ${updateBytes.length} up + ${globalBytes.length} down = ${((updateBytes.length + globalBytes.length) / params).toFixed(2)} B/param`,
        );
      } finally {
        opt.dispose();
      }
    }
  } finally {
    await client.close();
    await coordinator.close();
    await server.close();
    await opened.runtime.dispose();
  }
  rows.forEach((r) => ctx.record(r));
  ctx.printTable('federated', rows);
}
