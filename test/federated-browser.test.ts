// Coordinator and clients running in a browser page (headless Chromium; our sources bundled by
// test/browser/serve.ts, the `mqtt` package's browser build through an import map) against an aedes
// broker in this Node process over MQTT/WebSockets: the final global posterior equals the same run's
// in Node, bit for bit; the coordinator checkpoints to the origin private file system, and the last
// checkpoint there is that final global.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../examples/federated-broker.js';
import { bundle, servePage, type PageServer } from './browser/serve.js';
import { quadraticRoundTrip, ROUNDTRIP_IDS } from './federated-roundtrip.js';

const root = resolve(import.meta.dirname, '..');

const PAGE = `<!doctype html><meta charset="utf-8"><title>ivon-edge federated</title>
<script type="importmap">{"imports":{"mqtt":"/mqtt.js"}}</script>
<script type="module">
import { quadraticRoundTrip, opfsCheckpointStore, decodeMessage, encodeMessage } from '/roundtrip.js';
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
globalThis.run = async (url) => {
  const store = opfsCheckpointStore('federated-global');
  const bytes = await quadraticRoundTrip(url, 'browser-run', 2, store);
  const saved = decodeMessage(await store.load());
  const checkpoint = encodeMessage({ ...saved, session: 'compare' });
  return { final: hex(bytes), checkpoint: hex(checkpoint), round: saved.round, isFinal: saved.final };
};
globalThis.ready = true;
</script>`;

let broker: RunningBroker;
let server: PageServer;
let browser: Browser;

beforeAll(async () => {
  const users = Object.fromEntries(['coordinator', ...ROUNDTRIP_IDS].map((u) => [u, `pw-${u}`]));
  broker = await startBroker({ users, prefix: 'ivon-fl', websocket: true });
  const modules = {
    '/roundtrip.js': await bundle(resolve(root, 'test/federated-roundtrip.ts')),
    '/mqtt.js': readFileSync(resolve(root, 'node_modules/mqtt/dist/mqtt.esm.js'), 'utf8'),
  };
  server = await servePage(PAGE, modules);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await broker?.close();
});

describe('federated rounds in a browser page', () => {
  it('over MQTT/WebSockets, the same final posterior as in Node, bit for bit', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(() => 'ready' in globalThis, undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`page did not load: ${errors.join('\n')}`);
    });
    const inBrowser = await page.evaluate((url) => (globalThis as unknown as { run(u: string): Promise<Record<string, unknown>> }).run(url), broker.wsUrl!);
    const inNode = Buffer.from(await quadraticRoundTrip(broker.url, 'node-run')).toString('hex');
    expect(inBrowser.final).toBe(inNode);
    expect(inBrowser).toMatchObject({ checkpoint: inNode, round: 2, isFinal: true });
  });
});
