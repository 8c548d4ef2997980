// The same scenarios against Debian's mosquitto 2 as a real broker process (password file and the
// acl_file from mosquittoAcl), and the digits example through it. scripts/test.sh installs
// mosquitto; without it this test fails (saying what to install), it never skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningBroker } from '../examples/federated-broker.js';
import { DEFAULT_FEDERATED_CONFIG, runExperiment } from '../examples/federated-digits-run.js';
import { defineScenarios } from './federated-scenarios.js';

defineScenarios('mosquitto', (o) => startMosquitto(o), false);

describe('the digits example through mosquitto', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    const users = ['coordinator', 'client0', 'client1', 'client2'];
    broker = await startMosquitto({ users: Object.fromEntries(users.map((u) => [u, `pw-${u}`])), prefix: 'ivon-fl' });
  });
  afterAll(() => broker?.close());

  it('runs federated IVON and FedAvg-AdamW rounds over the real broker, with its ACL', async () => {
    const config = { ...DEFAULT_FEDERATED_CONFIG, clients: 3, rounds: 2, localEpochs: 1, bmaSamples: 4, brokerUrl: broker.url };
    const runs = await runExperiment(config, [0], ['federated-ivon', 'fedavg-adamw']);
    for (const run of runs) {
      expect(run.scores.map((s) => s.round)).toEqual([1, 2]);
      expect(run.scores[1].accuracy).toBeGreaterThan(0.2);
    }
  });
});
