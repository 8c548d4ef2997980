// Federated IVON vs FedAvg-AdamW vs centralised IVON on the bundled digits, split non-IID over
// simulated clients talking MQTT on loopback (docs/FEDERATED.md §6). Writes out/federated.json and
// out/federated.svg (accuracy, NLL, ECE per round, mean ± std over seeds).
//   npx tsx examples/federated-digits.ts [--seeds 5] [--clients 6] [--rounds 20] [--local-epochs 2] [--broker mqtt://host:1883]
// Without --broker an aedes broker runs in this process on loopback. With --broker, the broker must
// know the users coordinator and client0..client<K-1> (password pw-<user>) and apply
// mosquittoAcl('ivon-fl') — startMosquitto in examples/federated-broker.ts sets up exactly that.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_FEDERATED_CONFIG, METHODS, runExperiment, type MethodRun } from './federated-digits-run.js';
import { roundsFigure } from './federated-plot.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    clients: { type: 'string', default: String(DEFAULT_FEDERATED_CONFIG.clients) },
    rounds: { type: 'string', default: String(DEFAULT_FEDERATED_CONFIG.rounds) },
    'local-epochs': { type: 'string', default: String(DEFAULT_FEDERATED_CONFIG.localEpochs) },
    broker: { type: 'string' },
    out: { type: 'string', default: 'out' },
  },
});
const int = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${v}`);
  return n;
};
const config = {
  ...DEFAULT_FEDERATED_CONFIG,
  clients: int('clients', values.clients!, 2),
  rounds: int('rounds', values.rounds!, 1),
  localEpochs: int('local-epochs', values['local-epochs']!, 1),
  brokerUrl: values.broker,
};
const seeds = Array.from({ length: int('seeds', values.seeds!, 1) }, (_, i) => i);
const t0 = performance.now();
const runs = await runExperiment(config, seeds, METHODS, (line) => console.log(line));
mkdirSync(values.out!, { recursive: true });
writeFileSync(`${values.out}/federated.json`, JSON.stringify({ config, seeds, runs }, null, 2));
writeFileSync(`${values.out}/federated.svg`, roundsFigure(runs, `digits, ${config.clients} non-IID clients, ${config.localEpochs} local epochs per round, ${seeds.length} seeds (mean ± std)`));
console.log(`\nfinal round (${config.rounds}), mean ± std over ${seeds.length} seeds:`);
console.log('method                accuracy          NLL               ECE               (IVON: Bayesian model average)');
for (const method of METHODS) {
  const last = runs.filter((r) => r.method === method).map((r) => r.scores[r.scores.length - 1]);
  const ms = (f: (s: MethodRun['scores'][number]) => number) => {
    const v = last.map(f);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
    return `${mean.toFixed(4)} ± ${std.toFixed(4)}`.padEnd(18);
  };
  console.log(`${method.padEnd(22)}${ms((s) => s.accuracy)}${ms((s) => s.nll)}${ms((s) => s.ece)}`);
  if (last[0]?.atMean) console.log(`${'  at the mean'.padEnd(22)}${ms((s) => s.atMean!.accuracy)}${ms((s) => s.atMean!.nll)}${ms((s) => s.atMean!.ece)}`);
}
console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s; wrote ${values.out}/federated.json and ${values.out}/federated.svg`);
process.exit(0);
