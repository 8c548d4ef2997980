// The round protocol's scenarios, run against any broker that enforces the protocol's
// authentication and topic permissions (aedes in process: federated-protocol.test.ts; Debian's
// mosquitto as a process: federated-mosquitto.test.ts): a fault-free run, then the same run with
// lost and duplicated messages, a client that drops out and rejoins, a hostile client, and the
// coordinator stopped mid-round and restarted from its checkpoint — whose final global posterior
// must be the fault-free run's, bit for bit (quorum = every client, so the same answers are
// aggregated in the same order).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FederatedClient } from '../src/federated/client.js';
import { Coordinator, fileCheckpointStore, type FederatedEvent } from '../src/federated/coordinator.js';
import { connectMqtt } from '../src/federated/mqtt.js';
import { encodeMessage, decodeMessage } from '../src/federated/wire.js';
import type { Transport } from '../src/federated/transport.js';
import type { Posterior } from '../src/posterior/types.js';
import { precisionOf } from '../src/posterior/product.js';
import type { RunningBroker } from '../examples/federated-broker.js';
import { centralised, faultyTransport, initialGlobal, makeQuadraticClients, quadraticTrainer, type FaultPolicy } from './federated-helpers.js';

const SHAPES = { w: [6, 4], b: [4] };
const SESSION = 'test-run';
const PREFIX = `ivon-fl/${SESSION}`;
const CLIENTS = ['alice', 'bob', 'carol', 'dave'];
const ESS = [40, 120, 300, 75];
const ROUNDS = 3;
const users = Object.fromEntries(['coordinator', ...CLIENTS, 'mallory'].map((u) => [u, `pw-${u}`]));

/** Starts a broker with these users and the protocol's ACL; onDenied only where the broker can report refusals. */
export type BrokerFactory = (options: { users: Record<string, string>; prefix: string; onDenied?: (user: string | undefined, topic: string) => void }) => Promise<RunningBroker>;

let cleanup: Array<() => Promise<void> | void> = [];

async function connect(broker: RunningBroker, user: string): Promise<Transport> {
  const t = await connectMqtt({ url: broker.url, username: user, password: users[user], clientId: `${user}-${Math.random().toString(16).slice(2, 8)}` });
  cleanup.push(() => t.close());
  return t;
}

function setup() {
  const { clients, prior } = makeQuadraticClients(SHAPES, ESS, 21);
  const initial = initialGlobal(SHAPES, prior, 100);
  return { clients, prior, initial };
}

function coordinatorOptions(transport: Transport, initial: Posterior, events: FederatedEvent[], checkpointPath?: string) {
  return {
    transport,
    session: SESSION,
    initial,
    rule: 'global-prior' as const,
    rounds: ROUNDS,
    quorum: CLIENTS.length,
    deadlineMs: 60_000,
    clients: CLIENTS,
    limits: { maxEss: 1000 },
    checkpoint: checkpointPath ? fileCheckpointStore(checkpointPath) : undefined,
    log: (e: FederatedEvent) => events.push(e),
  };
}

async function startClient(broker: RunningBroker, id: string, train: (r: number, g: Posterior) => Promise<Posterior>, policy?: FaultPolicy): Promise<FederatedClient> {
  const inner = await connect(broker, id);
  const transport = policy ? faultyTransport(inner, policy) : inner;
  const client = new FederatedClient({ transport, id, session: SESSION, shapes: SHAPES, train, retryMs: 150 });
  await client.start();
  return client;
}

function bytesOf(p: Posterior): Uint8Array {
  return encodeMessage({ kind: 'global', session: SESSION, round: ROUNDS, sender: 'coordinator', final: true, posterior: p });
}

async function faultFreeRun(broker: RunningBroker): Promise<Posterior> {
  const { clients, initial } = setup();
  const events: FederatedEvent[] = [];
  const coordinator = new Coordinator(coordinatorOptions(await connect(broker, 'coordinator'), initial, events));
  await coordinator.start();
  const running = await Promise.all(CLIENTS.map((id, k) => startClient(broker, id, quadraticTrainer(clients[k], 'global-prior'))));
  const final = await coordinator.done;
  for (const c of running) expect(await c.done).toEqual(final);
  expect(events.filter((e) => e.type === 'rejected')).toEqual([]);
  expect(events.filter((e) => e.type === 'closed').map((e) => (e as { clients: string[] }).clients)).toEqual(Array(ROUNDS).fill([...CLIENTS].sort()));
  return final;
}

export function defineScenarios(brokerName: string, startBroker: BrokerFactory, reportsDenials: boolean): void {
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});
describe(`federated rounds over MQTT (${brokerName})`, () => {
  it('a fault-free run reaches the centralised float64 posterior; every client ends with the coordinator’s final global', async () => {
    const broker = await startBroker({ users, prefix: PREFIX });
    cleanup.push(() => broker.close());
    const final = await faultFreeRun(broker);
    const { clients, prior } = setup();
    const want = centralised(clients, prior);
    for (const name of Object.keys(SHAPES)) {
      for (let j = 0; j < want[name].mean.length; j++) {
        expect(Math.abs(precisionOf(final.params[name], j) / want[name].precision[j] - 1)).toBeLessThan(5e-6);
        expect(Math.abs(final.params[name].mean[j] - want[name].mean[j])).toBeLessThan(5e-6);
      }
    }
  });

  it('lost and duplicated messages, a dropout that rejoins, a hostile client and a coordinator killed mid-round: the same final posterior, bit for bit', async () => {
    const broker = await startBroker({ users, prefix: PREFIX });
    cleanup.push(() => broker.close());
    const reference = await faultFreeRun(broker);
    for (const f of cleanup.reverse()) await f();
    cleanup = [];

    const denied: string[] = [];
    const faulty = await startBroker({ users, prefix: PREFIX, onDenied: (u, t) => denied.push(`${u}→${t}`) });
    cleanup.push(() => faulty.close());
    const dir = mkdtempSync(join(tmpdir(), 'ivon-fl-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const checkpointPath = join(dir, 'global.safetensors');
    const { clients, initial } = setup();
    const events: FederatedEvent[] = [];

    // Coordinator A: stopped (its connection cut) once two answers of round 1 are in.
    const transportA = await connect(faulty, 'coordinator');
    let killA!: () => void;
    const aKilled = new Promise<void>((resolve) => (killA = resolve));
    const logA = (e: FederatedEvent) => {
      events.push(e);
      if (e.type === 'accepted' && e.round === 1 && events.filter((x) => x.type === 'accepted' && x.round === 1).length === 2) killA();
    };
    const coordinatorA = new Coordinator({ ...coordinatorOptions(transportA, initial, [], checkpointPath), log: logA });
    await coordinatorA.start();

    // alice: her first answer of every round is lost; bob: every answer is sent twice;
    // carol: drops out after answering round 0, and a new carol (same id) rejoins later.
    const dropFirst: FaultPolicy = (_t, payload) => {
      const round = decodeMessage(payload).round;
      return seen.has(round) ? 'send' : (seen.add(round), 'drop');
    };
    const seen = new Set<number>();
    const alice = await startClient(faulty, 'alice', quadraticTrainer(clients[0], 'global-prior'), dropFirst);
    const bob = await startClient(faulty, 'bob', quadraticTrainer(clients[1], 'global-prior'), () => 'duplicate');
    let carolTrained = 0;
    const carolTrain = quadraticTrainer(clients[2], 'global-prior');
    const carol = await startClient(faulty, 'carol', async (r, g) => {
      carolTrained++;
      return carolTrain(r, g);
    });
    const dave = await startClient(faulty, 'dave', quadraticTrainer(clients[3], 'global-prior'));

    // mallory (an authenticated user, not in the run's client list) tries everything.
    const mallory = await connect(faulty, 'mallory');
    const garbage = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await mallory.publish(`${PREFIX}/update/mallory`, garbage);
    const good = await quadraticTrainer(clients[0], 'global-prior')(0, initial);
    const forged = encodeMessage({ kind: 'update', session: SESSION, round: 0, sender: 'alice', final: false, posterior: good });
    await mallory.publish(`${PREFIX}/update/mallory`, forged).catch(() => {});

    await aKilled;
    coordinatorA.stop();
    await transportA.close();
    // carol leaves in the middle of round 1 (she may or may not have answered it).
    carol.stop();

    // Coordinator B resumes from A's checkpoint; a rejoining carol starts from the retained global.
    const b = new Coordinator(coordinatorOptions(await connect(faulty, 'coordinator'), initial, events, checkpointPath));
    await b.start();
    const carol2 = await startClient(faulty, 'carol', carolTrain);

    const final = await b.done;
    expect(bytesOf(final)).toEqual(bytesOf(reference));
    for (const c of [alice, bob, dave, carol2]) expect(bytesOf(await c.done)).toEqual(bytesOf(reference));
    expect(carolTrained).toBeGreaterThanOrEqual(1);

    const types = (t: string) => events.filter((e) => e.type === t);
    expect(types('resumed')).toEqual([{ type: 'resumed', round: 1 }]);
    expect(types('ignored').some((e) => (e as { reason: string }).reason === 'duplicate')).toBe(true);
    // mallory's garbage and forgery never reach aggregation.
    expect(types('rejected').every((e) => (e as { client: string }).client === 'mallory')).toBe(true);
    expect(types('rejected').length).toBeGreaterThanOrEqual(1);
    expect(types('closed').every((e) => !(e as { clients: string[] }).clients.includes('mallory'))).toBe(true);
  });

  it('a listed client’s hostile payloads are each rejected with the reason and never aggregated; its absurd precision is clipped', async () => {
    const broker = await startBroker({ users, prefix: PREFIX });
    cleanup.push(() => broker.close());
    const { clients, initial } = setup();
    const events: FederatedEvent[] = [];
    const options = { ...coordinatorOptions(await connect(broker, 'coordinator'), initial, events), clients: ['alice', 'bob', 'mallory'], quorum: 3, rounds: 1 };
    const coordinator = new Coordinator(options);
    await coordinator.start();
    const mallory = await connect(broker, 'mallory');
    const topic = `${PREFIX}/update/mallory`;
    const honest = await quadraticTrainer(clients[2], 'global-prior')(0, initial);
    const update = (posterior: Posterior, over: Partial<{ kind: 'global' | 'update'; session: string; round: number; sender: string }> = {}) =>
      encodeMessage({ kind: 'update', session: SESSION, round: 0, sender: 'mallory', final: false, posterior, ...over });
    const withW = (w: Partial<Posterior['params'][string]>): Posterior => ({ params: { ...honest.params, w: { ...honest.params.w, ...w } } });
    const nanMean = Float32Array.from(honest.params.w.mean);
    nanMean[5] = NaN;
    const nanBytes = update(withW({}));
    // NaN cannot be encoded (the encoder validates), so it is written into the bytes directly.
    const nanMessage = new Uint8Array(nanBytes);
    const view = new DataView(nanMessage.buffer);
    const headerLength = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(nanMessage.subarray(8, 8 + headerLength)));
    view.setFloat32(8 + headerLength + header['w.mean'].data_offsets[0] + 5 * 4, NaN, true);
    const hostile: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array([9, 9, 9]), /too short/],
      [new TextEncoder().encode('{"not": "safetensors"}'), /header length|not a valid message/],
      [nanMessage, /element 5 is not finite/],
      [update(withW({ shape: [4, 6], mean: honest.params.w.mean, hess: honest.params.w.hess, priorPrecision: honest.params.w.priorPrecision, priorMean: honest.params.w.priorMean })), /shape \[4, 6\]/],
      [update({ params: { w: honest.params.w } }), /parameters \[w\] but the model has \[b, w\]/],
      [update(honest, { kind: 'global' }), /a global message arrived where a update was expected/],
      [update(honest, { session: 'other-run' }), /session other-run/],
      [update(honest, { sender: 'alice' }), /sender alice published on mallory's topic/],
      [update(withW({ ess: 1e9 })), /over maxEss/],
    ];
    for (const [bytes] of hostile) await mallory.publish(topic, bytes);
    await mallory.publish(topic, update(honest, { round: 7 }));
    while (events.filter((e) => e.type === 'rejected' || e.type === 'ignored').length < hostile.length + 1) await new Promise((r) => setTimeout(r, 20));
    const rejected = events.filter((e): e is Extract<FederatedEvent, { type: 'rejected' }> => e.type === 'rejected');
    hostile.forEach(([, reason], i) => expect(rejected[i].reason).toMatch(reason));
    expect(events).toContainEqual({ type: 'ignored', round: 7, client: 'mallory', reason: 'early' });
    expect(events.some((e) => e.type === 'accepted')).toBe(false);
    // A well-formed update with absurd curvature is accepted, clipped to maxCurvature, and counted.
    await mallory.publish(topic, update(withW({ hess: honest.params.w.hess.map(() => 1e30) })));
    await startClient(broker, 'alice', quadraticTrainer(clients[0], 'global-prior'));
    await startClient(broker, 'bob', quadraticTrainer(clients[1], 'global-prior'));
    const final = await coordinator.done;
    expect(events).toContainEqual({ type: 'clipped', round: 0, client: 'mallory', elements: 24 });
    expect(events).toContainEqual({ type: 'closed', round: 0, clients: ['alice', 'bob', 'mallory'], clamped: 0, by: 'quorum' });
    for (const name of Object.keys(SHAPES)) for (const v of final.params[name].mean) expect(Number.isFinite(v)).toBe(true);
  });

  it('the broker enforces the topic permissions: a client cannot publish another’s update or the global', async () => {
    const denied: string[] = [];
    const broker = await startBroker({ users, prefix: PREFIX, onDenied: (u, t) => denied.push(`${u}→${t}`) });
    cleanup.push(() => broker.close());
    const coordinator = await connect(broker, 'coordinator');
    const received: string[] = [];
    await coordinator.subscribe(`${PREFIX}/update/+`, (topic) => received.push(topic));
    // A client may not read the others' updates: aedes refuses the subscription (and hangs up),
    // mosquitto grants it but delivers nothing the ACL does not let it read.
    const eve = await connect(broker, 'alice');
    const eavesdropped: string[] = [];
    await eve.subscribe(`${PREFIX}/update/+`, (topic) => eavesdropped.push(topic)).catch(() => {});
    // A refused QoS 1 publish is never acknowledged (aedes drops the connection; the client would
    // re-send forever), so these are not awaited: the broker's refusals are what the test reads.
    const payload = new Uint8Array([1]);
    const mallory = await connect(broker, 'mallory');
    void mallory.publish(`${PREFIX}/update/alice`, payload).catch(() => {});
    const mallory2 = await connect(broker, 'mallory');
    void mallory2.publish(`${PREFIX}/global`, payload).catch(() => {});
    const mallory3 = await connect(broker, 'mallory');
    await mallory3.publish(`${PREFIX}/update/mallory`, payload);
    while ((reportsDenials && denied.length < 2) || received.length < 1) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    if (reportsDenials) expect(new Set(denied)).toEqual(new Set([`mallory→${PREFIX}/update/alice`, `mallory→${PREFIX}/global`]));
    expect(received).toEqual([`${PREFIX}/update/mallory`]);
    expect(eavesdropped).toEqual([]);
    // A wrong password is refused at connect.
    await expect(connectMqtt({ url: broker.url, username: 'alice', password: 'nope', connectTimeoutMs: 2000 })).rejects.toThrow();
  });
});
}
