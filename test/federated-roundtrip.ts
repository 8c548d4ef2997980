// One small federated run (coordinator + three exact quadratic clients, two rounds, rule
// 'global-prior') over the broker at `url`, the same code in Node and in Deno
// (test/deno/federated.ts): returns the final global as message bytes under a fixed session name,
// so runs in different runtimes and sessions can be compared bit for bit.
import { Coordinator, type CheckpointStore } from '../src/federated/coordinator.js';
import { FederatedClient } from '../src/federated/client.js';
import { connectMqtt } from '../src/federated/mqtt.js';
import { encodeMessage } from '../src/federated/wire.js';
import { initialGlobal, makeQuadraticClients, quadraticTrainer } from './federated-helpers.js';

export const ROUNDTRIP_IDS = ['d0', 'd1', 'd2'];
export const ROUNDTRIP_SHAPES = { w: [3, 5], b: [5] };

/** The run's clients and round-0 global (also used by the coordinator process of the kill test). */
export function roundTripSetup() {
  const { clients, prior } = makeQuadraticClients(ROUNDTRIP_SHAPES, [20, 60, 180], 31);
  return { clients, initial: initialGlobal(ROUNDTRIP_SHAPES, prior, 100) };
}

export async function quadraticRoundTrip(url: string, session: string, rounds = 2, checkpoint?: CheckpointStore): Promise<Uint8Array> {
  const shapes = ROUNDTRIP_SHAPES;
  const { clients, initial } = roundTripSetup();
  const transports = await Promise.all(['coordinator', ...ROUNDTRIP_IDS].map((user) => connectMqtt({ url, username: user, password: `pw-${user}`, clientId: `${session}-${user}` })));
  const coordinator = new Coordinator({ transport: transports[0], session, prefix: 'ivon-fl', initial, rule: 'global-prior', rounds, quorum: 3, deadlineMs: 60_000, clients: ROUNDTRIP_IDS, limits: { maxEss: 1000 }, checkpoint });
  const running = await Promise.all(
    ROUNDTRIP_IDS.map(async (id, k) => {
      const c = new FederatedClient({ transport: transports[k + 1], id, session, prefix: 'ivon-fl', shapes, train: quadraticTrainer(clients[k], 'global-prior'), retryMs: 200 });
      await c.start();
      return c;
    }),
  );
  await coordinator.start();
  const final = await coordinator.done;
  await Promise.all(running.map((c) => c.done));
  await Promise.all(transports.map((t) => t.close()));
  return encodeMessage({ kind: 'global', session: 'compare', round: rounds, sender: 'coordinator', final: true, posterior: final });
}

// Re-exported for the browser page, which loads this module as one bundle.
export { opfsCheckpointStore } from '../src/federated/coordinator.js';
export { decodeMessage, encodeMessage } from '../src/federated/wire.js';
