// A coordinator as its own process, for the kill test (federated-kill.test.ts): the run of
// federated-roundtrip.ts (three quadratic clients, rule 'global-prior', 3 rounds) on the broker at
// argv[2], checkpointing to argv[3]. Prints one JSON line per event, and the final global's bytes
// (hex, under the fixed session name 'compare') when done.
import { Coordinator, fileCheckpointStore } from '../src/federated/coordinator.js';
import { connectMqtt } from '../src/federated/mqtt.js';
import { encodeMessage } from '../src/federated/wire.js';
import { ROUNDTRIP_IDS, roundTripSetup } from './federated-roundtrip.js';

const [url, checkpointPath, session] = process.argv.slice(2);
const { initial } = roundTripSetup();
const transport = await connectMqtt({ url, username: 'coordinator', password: 'pw-coordinator', clientId: `coordinator-${process.pid}` });
const coordinator = new Coordinator({
  transport,
  session,
  prefix: 'ivon-fl',
  initial,
  rule: 'global-prior',
  rounds: 3,
  quorum: ROUNDTRIP_IDS.length,
  deadlineMs: 60_000,
  clients: ROUNDTRIP_IDS,
  limits: { maxEss: 1000 },
  checkpoint: fileCheckpointStore(checkpointPath),
  log: (e) => console.log(JSON.stringify(e)),
});
await coordinator.start();
const final = await coordinator.done;
const bytes = encodeMessage({ kind: 'global', session: 'compare', round: 3, sender: 'coordinator', final: true, posterior: final });
console.log(JSON.stringify({ type: 'final', hex: Buffer.from(bytes).toString('hex') }));
await transport.close();
process.exit(0);
