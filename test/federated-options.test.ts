// Every public constructor of the round protocol refuses bad options with an error that says what
// to pass, before it subscribes or publishes anything.
import { describe, expect, it } from 'vitest';
import { Coordinator, type CoordinatorOptions } from '../src/federated/coordinator.js';
import { FederatedClient } from '../src/federated/client.js';
import type { Transport } from '../src/federated/transport.js';
import { initialGlobal, makeQuadraticClients } from './federated-helpers.js';

const shapes = { w: [2, 2] };
const calls: string[] = [];
const transport: Transport = {
  publish: async (topic) => void calls.push(`publish ${topic}`),
  subscribe: async (filter) => void calls.push(`subscribe ${filter}`),
  close: async () => {},
};

function options(over: Partial<CoordinatorOptions> = {}): CoordinatorOptions {
  const { prior } = makeQuadraticClients(shapes, [10], 1);
  return { transport, session: 's1', initial: initialGlobal(shapes, prior, 10), rule: 'product', rounds: 2, quorum: 2, deadlineMs: 1000, clients: ['a', 'b'], limits: { maxEss: 100 }, ...over };
}

describe('federated options', () => {
  it('Coordinator: each bad option is refused by name, and nothing is published', () => {
    const cases: Array<[Partial<CoordinatorOptions>, RegExp]> = [
      [{ session: 'has space' }, /session/],
      [{ rule: 'mean' as never }, /rule must be one of/],
      [{ rounds: 0 }, /rounds must be an integer/],
      [{ quorum: 1.5 }, /quorum must be an integer/],
      [{ quorum: 3 }, /quorum 3 is more than the 2 listed clients/],
      [{ deadlineMs: 0 }, /deadlineMs/],
      [{ minUpdates: 0 }, /minUpdates/],
      [{ limits: { maxEss: 0 } }, /maxEss/],
      [{ limits: { maxEss: 10, maxCurvature: -1 } }, /maxCurvature/],
      [{ damping: 2 }, /damping/],
      [{ clients: ['ok', 'not/ok'] }, /client id/],
      [{ transport: {} as Transport }, /transport must be a Transport/],
      [{ initial: { params: {} } }, /initial/],
    ];
    for (const [over, message] of cases) expect(() => new Coordinator(options(over)), String(message)).toThrow(message);
    expect(calls).toEqual([]);
  });

  it('FederatedClient: each bad option is refused by name', () => {
    const good = { transport, id: 'a', session: 's1', shapes, train: async () => ({ params: {} }) };
    expect(() => new FederatedClient({ ...good, id: '' })).toThrow(/client id/);
    expect(() => new FederatedClient({ ...good, train: undefined as never })).toThrow(/train must be a function/);
    expect(() => new FederatedClient({ ...good, shapes: {} })).toThrow(/shapes/);
    expect(() => new FederatedClient({ ...good, retryMs: 0 })).toThrow(/retryMs/);
    expect(() => new FederatedClient({ ...good, transport: {} as Transport })).toThrow(/transport must be a Transport/);
    expect(calls).toEqual([]);
  });
});
