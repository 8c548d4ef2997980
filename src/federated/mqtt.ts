// The shipped Transport: MQTT through the `mqtt` package (Node, Deno, browsers over ws:// or wss://).
// Every publish and subscription is QoS 1 (at least once); the protocol is idempotent, so the
// duplicates QoS 1 allows are harmless. `mqtt` is imported lazily so that code which never
// federates does not load it; pass `mqtt` yourself to use a bundled or custom build.

import type { MessageHandler, PublishOptions, Transport } from './transport.js';
import { topicMatches } from './transport.js';

/** The part of the `mqtt` package this transport uses. */
export interface MqttModule {
  connectAsync(url: string, options: Record<string, unknown>): Promise<MqttClientLike>;
}

interface MqttClientLike {
  publishAsync(topic: string, payload: Uint8Array, options: { qos: 1; retain: boolean }): Promise<unknown>;
  subscribeAsync(filter: string, options: { qos: 1 }): Promise<Array<{ qos: number }>>;
  on(event: 'message', listener: (topic: string, payload: Uint8Array) => void): unknown;
  endAsync(force?: boolean): Promise<void>;
}

export interface MqttTransportOptions {
  /** Broker URL: mqtt://host:1883, ws://host:port/path, wss://... */
  url: string;
  /** MQTT client id (defaults to the username, else a random id). */
  clientId?: string;
  username?: string;
  password?: string;
  /** The `mqtt` module (default: import('mqtt')). */
  mqtt?: MqttModule;
  /** Milliseconds to wait for the broker (default 10 000). */
  connectTimeoutMs?: number;
}

export async function connectMqtt(options: MqttTransportOptions): Promise<Transport> {
  if (typeof options?.url !== 'string' || options.url.length === 0) throw new Error('connectMqtt: pass { url } of the broker, e.g. mqtt://localhost:1883 or ws://localhost:8080');
  const mqtt: MqttModule = options.mqtt ?? (((await import('mqtt')) as { default?: MqttModule }).default ?? ((await import('mqtt')) as unknown as MqttModule));
  const client = await mqtt.connectAsync(options.url, {
    clientId: options.clientId ?? options.username ?? `ivon-${Math.random().toString(16).slice(2, 10)}`,
    username: options.username,
    password: options.password,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    reconnectPeriod: 1000,
    clean: true,
  });
  const handlers: Array<[string, MessageHandler]> = [];
  client.on('message', (topic, payload) => {
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    for (const [filter, handler] of handlers) if (topicMatches(filter, topic)) handler(topic, bytes);
  });
  return {
    async publish(topic: string, payload: Uint8Array, publishOptions: PublishOptions = {}) {
      await client.publishAsync(topic, payload, { qos: 1, retain: publishOptions.retain ?? false });
    },
    async subscribe(filter: string, handler: MessageHandler) {
      handlers.push([filter, handler]);
      const granted = await client.subscribeAsync(filter, { qos: 1 });
      if (granted.some((g) => g.qos === 128)) throw new Error(`connectMqtt: the broker refused the subscription to ${filter} (check this client's ACL)`);
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
