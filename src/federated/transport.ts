// What the round protocol needs from a messaging system, and nothing more: publish bytes on a topic
// (optionally retained, so a client that connects later still gets the current round), subscribe
// to a topic filter, close. MQTT (mqtt.ts) is the shipped implementation; tests wrap it to drop and
// duplicate messages. Delivery is at-least-once: the protocol tolerates duplicates and losses.

export interface PublishOptions {
  /** Keep the message on the broker as the topic's last value for later subscribers. */
  retain?: boolean;
}

export type MessageHandler = (topic: string, payload: Uint8Array) => void;

export interface Transport {
  publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<void>;
  /** Subscribes to an MQTT-style filter ('+' one level, '#' the rest); handlers see matching topics only. */
  subscribe(filter: string, handler: MessageHandler): Promise<void>;
  close(): Promise<void>;
}

/** MQTT topic-filter matching: '+' matches one level, a trailing '#' any number of levels. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The protocol's topics under one prefix: the coordinator's global posterior and each client's update. */
export interface Topics {
  global: string;
  update(client: string): string;
  updates: string;
  /** The client id an update topic belongs to, or undefined when the topic is not an update topic. */
  clientOf(topic: string): string | undefined;
}

export function topicsFor(prefix: string): Topics {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix)) {
    throw new Error(`topic prefix ${JSON.stringify(prefix)} must be '/'-separated levels of A-Z a-z 0-9 _ . - (no wildcards)`);
  }
  const updateRoot = `${prefix}/update/`;
  return {
    global: `${prefix}/global`,
    update: (client) => updateRoot + client,
    updates: `${prefix}/update/+`,
    clientOf: (topic) => (topic.startsWith(updateRoot) && !topic.slice(updateRoot.length).includes('/') ? topic.slice(updateRoot.length) : undefined),
  };
}
