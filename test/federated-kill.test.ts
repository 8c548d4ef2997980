// A coordinator process killed with SIGKILL in the middle of a round (two of three answers in), then
// started again on the same checkpoint file: it resumes that round, the clients' re-sends refill
// it, and the final global posterior equals an uninterrupted run's, bit for bit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../examples/federated-broker.js';
import { FederatedClient } from '../src/federated/client.js';
import { connectMqtt } from '../src/federated/mqtt.js';
import type { Transport } from '../src/federated/transport.js';
import { quadraticTrainer } from './federated-helpers.js';
import { quadraticRoundTrip, roundTripSetup, ROUNDTRIP_IDS, ROUNDTRIP_SHAPES } from './federated-roundtrip.js';

const root = resolve(import.meta.dirname, '..');
let broker: RunningBroker;
let dir: string;

beforeAll(async () => {
  broker = await startBroker({ users: Object.fromEntries(['coordinator', ...ROUNDTRIP_IDS].map((u) => [u, `pw-${u}`])), prefix: 'ivon-fl' });
  dir = mkdtempSync(join(tmpdir(), 'ivon-fl-kill-'));
});
afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

function startCoordinator(session: string, onEvent: (e: { type: string; round?: number; hex?: string }) => void): { child: ChildProcess; exited: Promise<number | null> } {
  // node itself with tsx as a loader (the tsx CLI would run node as a grandchild SIGKILL never reaches).
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/federated-coordinator-process.ts', broker.url, join(dir, 'global.safetensors'), session], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (line) => onEvent(JSON.parse(line)));
  return { child, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

describe('a coordinator process killed mid-round', () => {
  it('resumes from its checkpoint with nothing lost: the final posterior of an uninterrupted run, bit for bit', async () => {
    const reference = Buffer.from(await quadraticRoundTrip(broker.url, 'reference', 3)).toString('hex');
    const session = 'killed';
    const { clients } = roundTripSetup();
    let releaseD2!: () => void;
    const d2Gate = new Promise<void>((r) => (releaseD2 = r));
    const transports: Transport[] = [];
    const running = await Promise.all(
      ROUNDTRIP_IDS.map(async (id, k) => {
        const transport = await connectMqtt({ url: broker.url, username: id, password: `pw-${id}`, clientId: `${session}-${id}` });
        transports.push(transport);
        const train = quadraticTrainer(clients[k], 'global-prior');
        const client = new FederatedClient({
          transport, id, session, prefix: 'ivon-fl', shapes: ROUNDTRIP_SHAPES, retryMs: 200,
          // d2 answers round 1 only after the kill, so the round is open when the coordinator dies.
          train: async (round, global) => {
            if (id === 'd2' && round === 1) await d2Gate;
            return train(round, global);
          },
        });
        await client.start();
        return client;
      }),
    );

    const first: Array<{ type: string; round?: number }> = [];
    let twoIn!: () => void;
    const twoAccepted = new Promise<void>((r) => (twoIn = r));
    const a = startCoordinator(session, (e) => {
      first.push(e);
      if (first.filter((x) => x.type === 'accepted' && x.round === 1).length === 2) twoIn();
    });
    await twoAccepted;
    a.child.kill('SIGKILL');
    await a.exited;
    expect(first.some((e) => e.type === 'closed' && e.round === 1)).toBe(false);
    releaseD2();

    const second: Array<{ type: string; round?: number; hex?: string }> = [];
    let final!: (hex: string) => void;
    const finalHex = new Promise<string>((r) => (final = r));
    const b = startCoordinator(session, (e) => {
      second.push(e);
      if (e.type === 'final') final(e.hex!);
    });
    expect(await finalHex).toBe(reference);
    expect(await b.exited).toBe(0);
    expect(second[0]).toEqual({ type: 'resumed', round: 1 });
    for (const c of running) await c.done;
    await Promise.all(transports.map((t) => t.close()));
  });
});
