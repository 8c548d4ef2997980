// The federated digits experiment (examples/federated-digits.ts is its command line; the test runs
// this same code): the bundled digits split non-IID over K clients (each holds mostly three
// classes), every method run round by round over a real MQTT broker on loopback — federated IVON
// (precision-weighted product), FedAvg with AdamW clients — and centralised IVON on the union with
// the same number of epochs, each scored on the held-out rows after every round: accuracy, NLL, ECE.
import { AdamW, IVON, createRuntime, type Runtime } from '../src/index.js';
import { accuracy, expectedCalibrationError, negativeLogLikelihood } from '../src/metrics/index.js';
import { fit } from '../src/nn/fit.js';
import { relu } from '../src/nn/layers.js';
import { mlp } from '../src/nn/network.js';
import { predictAtMean, predictBma } from '../src/nn/predict.js';
import { createModelOps } from '../src/nn/runtime-ops.js';
import { permutation, Rng } from '../src/nn/random.js';
import { loadDigits, subset, trainTestSplit, type LabelledSet } from '../src/cli/digits.js';
import { Coordinator } from '../src/federated/coordinator.js';
import { FederatedClient } from '../src/federated/client.js';
import { connectMqtt } from '../src/federated/mqtt.js';
import { adamwTrainer, ivonTrainer, pointPosterior } from '../src/federated/trainers.js';
import { posteriorOf } from '../src/posterior/state.js';
import type { Transport } from '../src/federated/transport.js';
import type { ParamPosterior, Posterior } from '../src/posterior/types.js';
import { startBroker } from './federated-broker.js';

/** One topic prefix for every run (the broker's ACL protects it); runs differ by session id. */
const PREFIX = 'ivon-fl';

/**
 * 'federated-ivon': rule 'product' (clients train from the base prior); 'federated-ivon-prior': rule
 * 'global-prior' (each round's global is every client's prior; needs IVON's setPrior).
 */
export type Method = 'federated-ivon' | 'federated-ivon-prior' | 'fedavg-adamw' | 'centralised-ivon';
export const METHODS: readonly Method[] = ['federated-ivon', 'federated-ivon-prior', 'fedavg-adamw', 'centralised-ivon'];

export interface FederatedDigitsConfig {
  clients: number;
  rounds: number;
  /** Local epochs per round (centralised: epochs over the union per round). */
  localEpochs: number;
  seed: number;
  hidden: number;
  batchSize: number;
  bmaSamples: number;
  /** Share of each client's rows drawn from all classes (the rest from its three classes). */
  iidShare: number;
  ivon: { lr: number; hessInit: number; beta2: number; essFactor: number; priorPrecision: number };
  adamw: { lr: number; weightDecay: number };
  /** Damping ρ of the 'global-prior' rounds (federated-ivon-prior). */
  priorDamping: number;
  /** Broker URL; default: an aedes broker started in this process on loopback. */
  brokerUrl?: string;
}

export const DEFAULT_FEDERATED_CONFIG: FederatedDigitsConfig = {
  clients: 6,
  rounds: 20,
  localEpochs: 2,
  seed: 0,
  hidden: 64,
  batchSize: 32,
  bmaSamples: 16,
  iidShare: 0.1,
  // priorPrecision: the absolute prior precision P₀ = ess·δ of every weight (the main job's
  // δ = 1e-4 at ess = 10·1438 is P₀ ≈ 1.4).
  ivon: { lr: 0.2, hessInit: 1.5, beta2: 0.999, essFactor: 10, priorPrecision: 1.5 },
  adamw: { lr: 5e-3, weightDecay: 0.1 },
  priorDamping: 0.5,
};

export interface RoundScore {
  round: number;
  /** IVON methods: the Bayesian model average; FedAvg-AdamW: at the weights. */
  accuracy: number;
  nll: number;
  ece: number;
  /** IVON methods: the same scores at the posterior mean (no sampling). */
  atMean?: { accuracy: number; nll: number; ece: number };
}

export interface MethodRun {
  method: Method;
  seed: number;
  scores: RoundScore[];
  seconds: number;
}

/** Client k holds mostly classes 3k, 3k+1, 3k+2 (mod 10), plus an iidShare of rows from every class. */
export function splitNonIid(train: LabelledSet, clients: number, iidShare: number, seed: number): LabelledSet[] {
  const rng = new Rng(seed + 7919);
  const order = permutation(train.rows, rng);
  const owners: number[][] = Array.from({ length: clients }, () => []);
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (const r of order) byClass[train.labels[r]].push(r);
  const holders = (c: number) => Array.from({ length: clients }, (_, k) => k).filter((k) => [0, 1, 2].some((d) => (3 * k + d) % 10 === c));
  byClass.forEach((rows, c) => {
    const hs = holders(c);
    rows.forEach((r, i) => {
      const iid = (i * 7 + c) % Math.round(1 / Math.max(iidShare, 1e-9)) === 0 || hs.length === 0;
      owners[iid ? (i + c) % clients : hs[i % hs.length]].push(r);
    });
  });
  return owners.map((rows) => subset(train, rows));
}

interface Setup {
  rt: Runtime;
  test: LabelledSet;
  parts: LabelledSet[];
  union: LabelledSet;
}

async function setup(config: FederatedDigitsConfig): Promise<Setup> {
  const rt = await createRuntime({ backend: ['wasm', 'js'], workers: 0 });
  const { train, test } = trainTestSplit(loadDigits(), 0.2, config.seed);
  return { rt, test, parts: splitNonIid(train, config.clients, config.iidShare, config.seed), union: train };
}

function model(config: FederatedDigitsConfig) {
  return mlp([64, config.hidden, 10], relu);
}

async function scoreIvon(rt: Runtime, config: FederatedDigitsConfig, global: Posterior, test: LabelledSet, round: number): Promise<RoundScore> {
  const m = model(config);
  const net = m.bind(createModelOps(rt), 512);
  const first = Object.values(global.params)[0];
  const opt = new IVON(rt, { params: meansOf(global), shapes: m.shapes(), lr: 0, ess: first.ess, weightDecay: first.priorPrecision[0], seed: config.seed + 1000 * round });
  const snap = await opt.snapshot();
  for (const [name, t] of Object.entries(snap.tensors)) t.hess = Float32Array.from(global.params[name].hess);
  await opt.restore(snap);
  const p = await predictBma(net, opt, test.x, test.rows, { samples: config.bmaSamples });
  const q = await predictAtMean(net, opt, test.x, test.rows);
  opt.dispose();
  const scores = (r: { probs: Float32Array | Float64Array; logProbs: Float32Array | Float64Array }) => ({
    accuracy: accuracy(r.probs, test.labels, 10),
    nll: negativeLogLikelihood(r.logProbs, test.labels, 10),
    ece: expectedCalibrationError(r.probs, test.labels, 10),
  });
  return { round, ...scores(p), atMean: scores(q) };
}

async function scoreMeans(rt: Runtime, config: FederatedDigitsConfig, global: Posterior, test: LabelledSet, round: number): Promise<RoundScore> {
  const m = model(config);
  const net = m.bind(createModelOps(rt), 512);
  const opt = new AdamW(rt, { params: meansOf(global), shapes: m.shapes() });
  const p = await predictAtMean(net, opt, test.x, test.rows);
  opt.dispose();
  return { round, accuracy: accuracy(p.probs, test.labels, 10), nll: negativeLogLikelihood(p.logProbs, test.labels, 10), ece: expectedCalibrationError(p.probs, test.labels, 10) };
}

function meansOf(p: Posterior): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(p.params).map(([n, q]) => [n, Float32Array.from(q.mean)]));
}

/** Round 0's global: the shared initial weights, and the base prior N(0, P₀⁻¹) at the clients' total ess. */
function initialPosterior(config: FederatedDigitsConfig, ess: number, ivon: boolean): Posterior {
  const m = model(config);
  const init = m.init(config.seed);
  const shapes = m.shapes();
  const params: Record<string, ParamPosterior> = {};
  for (const [name, mean] of Object.entries(init)) {
    const values = Float32Array.from(mean as ArrayLike<number>);
    const delta = config.ivon.priorPrecision / ess;
    params[name] = ivon
      ? { shape: shapes[name], mean: values, hess: new Float32Array(values.length).fill(config.ivon.hessInit), priorPrecision: new Float32Array(values.length).fill(delta), priorMean: new Float32Array(values.length), ess }
      : pointPosterior(shapes[name], values, ess);
  }
  return { params };
}

/** Runs one method for one seed; federated methods go through the broker at `url`. */
export async function runMethod(method: Method, config: FederatedDigitsConfig, url: string, log: (line: string) => void = () => {}): Promise<MethodRun> {
  const t0 = performance.now();
  const s = await setup(config);
  const fitOptions = (rows: number, seed: number) => ({ loss: 'cross-entropy' as const, epochs: config.localEpochs, batchSize: Math.min(config.batchSize, rows), lr: method === 'fedavg-adamw' ? config.adamw.lr : config.ivon.lr, minLrFactor: 1, seed });
  const m = model(config);
  const scores: RoundScore[] = [];
  if (method === 'centralised-ivon') {
    const ess = config.ivon.essFactor * s.union.rows;
    const net = m.bind(createModelOps(s.rt), config.batchSize);
    const opt = new IVON(s.rt, { params: m.init(config.seed), shapes: m.shapes(), lr: config.ivon.lr, ess, hessInit: config.ivon.hessInit, beta2: config.ivon.beta2, weightDecay: config.ivon.priorPrecision / ess, seed: config.seed });
    for (let r = 0; r < config.rounds; r++) {
      await fit(net, opt, { x: s.union.x, targets: s.union.labels, rows: s.union.rows }, fitOptions(s.union.rows, config.seed * 1000 + r));
      const p = await posteriorOf(opt);
      scores.push(await scoreIvon(s.rt, config, p, s.test, r + 1));
      log(`${method} seed ${config.seed} round ${r + 1}: acc ${scores[r].accuracy.toFixed(4)} nll ${scores[r].nll.toFixed(4)} ece ${scores[r].ece.toFixed(4)}`);
    }
    return { method, seed: config.seed, scores, seconds: (performance.now() - t0) / 1000 };
  }
  const ivon = method === 'federated-ivon' || method === 'federated-ivon-prior';
  const rule = method === 'federated-ivon-prior' ? 'global-prior' : 'product';
  const session = `digits-${method}-${config.seed}`;
  const totalEss = s.parts.reduce((a, p) => a + (ivon ? config.ivon.essFactor * p.rows : p.rows), 0);
  const transports: Transport[] = [];
  const connect = async (user: string) => {
    const t = await connectMqtt({ url, username: user, password: `pw-${user}`, clientId: `${session}-${user}` });
    transports.push(t);
    return t;
  };
  const ids = s.parts.map((_, k) => `client${k}`);
  const coordinator = new Coordinator({
    transport: await connect('coordinator'),
    session,
    prefix: PREFIX,
    initial: initialPosterior(config, totalEss, ivon),
    rule: ivon ? rule : 'fedavg',
    damping: rule === 'global-prior' ? config.priorDamping : 1,
    rounds: config.rounds,
    quorum: ids.length,
    deadlineMs: 600_000,
    clients: ids,
    limits: { maxEss: totalEss },
    log: (e) => {
      if (e.type === 'rejected') log(`rejected: ${e.reason}`);
    },
  });
  const pending: Promise<RoundScore>[] = [];
  const clients = await Promise.all(
    s.parts.map(async (part, k) => {
      const net = m.bind(createModelOps(s.rt), config.batchSize);
      const data = { x: part.x, targets: part.labels, rows: part.rows };
      const seed = config.seed * 100 + k;
      let train: (round: number, global: Posterior) => Promise<Posterior>;
      if (ivon) {
        const ess = config.ivon.essFactor * part.rows;
        const opt = new IVON(s.rt, { params: m.init(config.seed), shapes: m.shapes(), lr: config.ivon.lr, ess, hessInit: config.ivon.hessInit, beta2: config.ivon.beta2, weightDecay: config.ivon.priorPrecision / ess, seed });
        train = ivonTrainer({ opt, rule, train: async (round) => void (await fit(net, opt, data, fitOptions(part.rows, seed * 1000 + round))) });
      } else {
        const opt = new AdamW(s.rt, { params: m.init(config.seed), shapes: m.shapes(), lr: config.adamw.lr, weightDecay: config.adamw.weightDecay });
        train = adamwTrainer({ opt, rows: part.rows, train: async (round) => void (await fit(net, opt, data, fitOptions(part.rows, seed * 1000 + round))) });
      }
      const scored = new Set<number>();
      const client = new FederatedClient({
        transport: await connect(ids[k]),
        id: ids[k],
        session,
        prefix: PREFIX,
        shapes: m.shapes(),
        retryMs: 5000,
        // Client 0 also scores each round's global as it arrives (round r's global = after r aggregations).
        train: async (round, global) => {
          if (k === 0 && round > 0 && !scored.has(round)) {
            scored.add(round);
            pending.push(ivon ? scoreIvon(s.rt, config, global, s.test, round) : scoreMeans(s.rt, config, global, s.test, round));
          }
          return train(round, global);
        },
      });
      await client.start();
      return client;
    }),
  );
  await coordinator.start();
  const final = await coordinator.done;
  await Promise.all(clients.map((c) => c.done));
  pending.push(ivon ? scoreIvon(s.rt, config, final, s.test, config.rounds) : scoreMeans(s.rt, config, final, s.test, config.rounds));
  scores.push(...(await Promise.all(pending)).sort((a, b) => a.round - b.round));
  for (const sc of scores) log(`${method} seed ${config.seed} round ${sc.round}: acc ${sc.accuracy.toFixed(4)} nll ${sc.nll.toFixed(4)} ece ${sc.ece.toFixed(4)}`);
  await Promise.all(transports.map((t) => t.close()));
  return { method, seed: config.seed, scores, seconds: (performance.now() - t0) / 1000 };
}

/** Every method over `seeds`, through one in-process aedes broker (or config.brokerUrl). */
export async function runExperiment(config: FederatedDigitsConfig, seeds: readonly number[], methods: readonly Method[] = METHODS, log: (line: string) => void = () => {}): Promise<MethodRun[]> {
  const users = ['coordinator', ...Array.from({ length: config.clients }, (_, k) => `client${k}`)];
  const broker = config.brokerUrl ? undefined : await startBroker({ users: Object.fromEntries(users.map((u) => [u, `pw-${u}`])), prefix: PREFIX });
  try {
    const runs: MethodRun[] = [];
    for (const seed of seeds) for (const method of methods) runs.push(await runMethod(method, { ...config, seed }, config.brokerUrl ?? broker!.url, log));
    return runs;
  } finally {
    await broker?.close();
  }
}
