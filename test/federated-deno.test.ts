// Coordinator and clients running in Deno (npm `deno` binary, our TypeScript sources, the `mqtt`
// package from node_modules) against an aedes broker in this Node process, over MQTT/TCP and over
// MQTT/WebSockets: the final global posterior equals the same run's in Node, bit for bit.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../examples/federated-broker.js';
import { quadraticRoundTrip, ROUNDTRIP_IDS } from './federated-roundtrip.js';

const root = resolve(import.meta.dirname, '..');
let broker: RunningBroker;

beforeAll(async () => {
  const users = Object.fromEntries(['coordinator', ...ROUNDTRIP_IDS].map((u) => [u, `pw-${u}`]));
  broker = await startBroker({ users, prefix: 'ivon-fl', websocket: true });
});
afterAll(() => broker.close());

async function inDeno(url: string, session: string): Promise<string> {
  const { stdout } = await promisify(execFile)(resolve(root, 'node_modules/.bin/deno'), ['run', '-A', '--sloppy-imports', '--no-prompt', 'test/deno/federated.ts', url, session], {
    cwd: root,
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
  });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; hex?: string; error?: string };
  expect(report.error).toBeUndefined();
  return report.hex!;
}

describe('federated rounds in Deno', () => {
  it('over MQTT/TCP and MQTT/WebSockets, the same final posterior as in Node, bit for bit', async () => {
    const node = Buffer.from(await quadraticRoundTrip(broker.url, 'node-run')).toString('hex');
    expect(await inDeno(broker.url, 'deno-tcp')).toBe(node);
    expect(await inDeno(broker.wsUrl!, 'deno-ws')).toBe(node);
  });
});
