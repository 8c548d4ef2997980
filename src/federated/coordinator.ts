// The coordinator of federated rounds (docs/FEDERATED.md §4). Round r: the global posterior q_r is
// published (retained) on <prefix>/global; each client answers on <prefix>/update/<id>; the round
// closes when `quorum` distinct clients answered or `deadlineMs` passed with at least `minUpdates`;
// the new global is checkpointed atomically, then published as round r+1. What it refuses, and why:
//   - an update for another round (late or early), another session, or from an unknown client;
//   - a second update of a client for the same round (the first one counts: replays are idempotent);
//   - an update whose topic and sender disagree, or whose bytes fail the wire validator (shapes,
//     kind, numbers), or whose ess is over maxEss — each logged as 'rejected', never aggregated.
// A restarted coordinator resumes from its checkpoint: the checkpoint is the round's global message
// itself, so republishing it is byte-identical, and clients re-send their answers until they see the
// next round. With quorum = every client the final posterior is independent of faults (bit for bit).

import { aggregateValidated, checkDamping, AGGREGATION_RULES, type AggregationRule, type ClientUpdate, type InfluenceLimits } from './aggregate.js';
import { decodeHeader, decodeMessage, encodeMessage, checkId, FederatedMessageError } from './wire.js';
import { topicsFor, type Transport } from './transport.js';
import type { Posterior } from '../posterior/types.js';
import { UsageError } from '../errors.js';

export type FederatedEvent =
  | { type: 'published'; round: number; final: boolean; bytes: number }
  | { type: 'resumed'; round: number }
  | { type: 'accepted'; round: number; client: string }
  | { type: 'ignored'; round: number; client: string; reason: 'late' | 'early' | 'duplicate' }
  | { type: 'rejected'; round: number; client: string; reason: string }
  | { type: 'clipped'; round: number; client: string; elements: number }
  | { type: 'closed'; round: number; clients: string[]; clamped: number; by: 'quorum' | 'deadline' }
  | { type: 'waiting'; round: number; received: number };

export interface CheckpointStore {
  /** Saves atomically: after a crash the store holds the old or the new bytes, never a mix. */
  save(bytes: Uint8Array): Promise<void>;
  /** The last saved bytes, or undefined when nothing was saved yet. */
  load(): Promise<Uint8Array | undefined>;
}

export interface CoordinatorOptions {
  transport: Transport;
  /** Identifies the run; every message carries it (1-64 of A-Z a-z 0-9 _ . -). */
  session: string;
  /** Topic prefix (default 'ivon-fl/<session>'). */
  prefix?: string;
  /** The coordinator's id in messages (default 'coordinator'). */
  id?: string;
  /** Round 0's global posterior: the shared starting point and base prior p₀ of every client. */
  initial: Posterior;
  rule: AggregationRule;
  /** Aggregations to run; the global after the last one is published with final = true. */
  rounds: number;
  /** Distinct client answers that close a round at once. */
  quorum: number;
  /** Milliseconds after a round opens when it closes with what it has (if ≥ minUpdates). */
  deadlineMs: number;
  /** Fewest answers a deadline may close a round with (default 1); with fewer the deadline restarts. */
  minUpdates?: number;
  /** The client ids allowed to answer (default: anyone the broker lets publish on an update topic). */
  clients?: readonly string[];
  limits: InfluenceLimits;
  /** ρ ∈ (0, 1] (default 1): each round's global moves this fraction of the way (aggregate.ts RoundOptions). */
  damping?: number;
  /** Where the global of the current round is kept (resume after a crash); e.g. fileCheckpointStore(path). */
  checkpoint?: CheckpointStore;
  /** Every event (accepted, ignored, rejected, ...). Default: rejections go to console.warn. */
  log?: (event: FederatedEvent) => void;
}

export class Coordinator {
  /** Resolves with the final global posterior once the last round is published. */
  readonly done: Promise<Posterior>;
  private resolveDone!: (p: Posterior) => void;
  private rejectDone!: (e: unknown) => void;
  private readonly o: Required<Omit<CoordinatorOptions, 'clients' | 'checkpoint' | 'prefix'>> & Pick<CoordinatorOptions, 'clients' | 'checkpoint'>;
  private readonly topics;
  private readonly shapes: Record<string, readonly number[]>;
  private round = 0;
  private global!: Posterior;
  private open = false;
  private received = new Map<string, ClientUpdate>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private currentBytes: Uint8Array | undefined;

  constructor(options: CoordinatorOptions) {
    const o = options;
    if (typeof o !== 'object' || o === null) throw new UsageError('Coordinator: pass an options object');
    checkId('session', o.session);
    if (!AGGREGATION_RULES.includes(o.rule)) throw new UsageError(`Coordinator: rule must be one of ${AGGREGATION_RULES.join(', ')}, not ${JSON.stringify(o.rule)}`);
    for (const key of ['rounds', 'quorum'] as const) {
      if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw new UsageError(`Coordinator: ${key} must be an integer ≥ 1, not ${String(o[key])}`);
    }
    if (!(o.deadlineMs > 0)) throw new UsageError(`Coordinator: deadlineMs must be > 0, not ${String(o.deadlineMs)}`);
    if (!(o.limits?.maxEss > 0)) throw new UsageError('Coordinator: limits.maxEss must be > 0 (the largest data-set size a client may claim)');
    if (!o.initial?.params || Object.keys(o.initial.params).length === 0) throw new UsageError('Coordinator: initial must be a posterior with at least one parameter');
    o.clients?.forEach((c) => checkId('client id', c));
    if (typeof o.transport?.publish !== 'function' || typeof o.transport?.subscribe !== 'function') {
      throw new UsageError('Coordinator: transport must be a Transport ({ publish, subscribe, close }), e.g. await connectMqtt({ url, username, password })');
    }
    if (o.minUpdates !== undefined && (!Number.isSafeInteger(o.minUpdates) || o.minUpdates < 1)) throw new UsageError(`Coordinator: minUpdates must be an integer ≥ 1, not ${String(o.minUpdates)}`);
    if (o.clients && o.quorum > o.clients.length) {
      throw new UsageError(`Coordinator: quorum ${o.quorum} is more than the ${o.clients.length} listed clients; a round could only close at its deadline. Lower quorum or list every client`);
    }
    for (const key of ['maxCurvature', 'maxMeanShift'] as const) {
      const v = o.limits[key];
      if (v !== undefined && !(typeof v === 'number' && v > 0)) throw new UsageError(`Coordinator: limits.${key} must be a number > 0 (Infinity allowed), not ${String(v)}`);
    }
    if (o.log !== undefined && typeof o.log !== 'function') throw new UsageError('Coordinator: log must be a function (event) => void');
    this.o = {
      transport: o.transport,
      session: o.session,
      id: checkId('coordinator id', o.id ?? 'coordinator'),
      initial: o.initial,
      rule: o.rule,
      rounds: o.rounds,
      quorum: o.quorum,
      deadlineMs: o.deadlineMs,
      minUpdates: o.minUpdates ?? 1,
      clients: o.clients,
      limits: o.limits,
      damping: checkDamping('Coordinator', o.damping),
      checkpoint: o.checkpoint,
      log: o.log ?? defaultLog,
    };
    this.topics = topicsFor(o.prefix ?? `ivon-fl/${o.session}`);
    this.shapes = Object.fromEntries(Object.entries(o.initial.params).map(([n, p]) => [n, p.shape]));
    // Validates the initial posterior (throws on bad input before anything is published).
    encodeMessage({ kind: 'global', session: o.session, round: 0, sender: this.o.id, final: false, posterior: o.initial });
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  /** Resumes from the checkpoint when there is one, else starts at round 0; subscribes and publishes. */
  async start(): Promise<void> {
    const saved = await this.o.checkpoint?.load();
    if (saved) {
      const message = decodeMessage(saved, { kind: 'global', session: this.o.session, shapes: this.shapes });
      this.round = message.round;
      this.global = message.posterior;
      this.currentBytes = saved;
      this.o.log({ type: 'resumed', round: this.round });
      if (message.final) {
        await this.publishCurrent(true);
        this.resolveDone(this.global);
        return;
      }
    } else {
      this.round = 0;
      this.global = this.o.initial;
      this.currentBytes = encodeMessage({ kind: 'global', session: this.o.session, round: 0, sender: this.o.id, final: false, posterior: this.global });
      await this.o.checkpoint?.save(this.currentBytes);
    }
    await this.o.transport.subscribe(this.topics.updates, (topic, payload) => this.onUpdate(topic, payload));
    await this.openRound();
  }

  /** The round now open (or the final round once done). */
  get currentRound(): number {
    return this.round;
  }

  /** Stops listening and timing (a crash, as far as the protocol can tell). Does not close the transport. */
  stop(): void {
    this.stopped = true;
    this.open = false;
    if (this.timer) clearTimeout(this.timer);
  }

  private async openRound(): Promise<void> {
    this.received = new Map();
    this.open = true;
    await this.publishCurrent(false);
    this.armDeadline();
  }

  private async publishCurrent(final: boolean): Promise<void> {
    const bytes = this.currentBytes!;
    await this.o.transport.publish(this.topics.global, bytes, { retain: true });
    this.o.log({ type: 'published', round: this.round, final, bytes: bytes.length });
  }

  private armDeadline(): void {
    if (this.timer) clearTimeout(this.timer);
    const round = this.round;
    this.timer = setTimeout(() => {
      if (this.stopped || !this.open || this.round !== round) return;
      if (this.received.size >= this.o.minUpdates) this.close('deadline');
      else {
        this.o.log({ type: 'waiting', round, received: this.received.size });
        this.armDeadline();
      }
    }, this.o.deadlineMs);
  }

  private onUpdate(topic: string, payload: Uint8Array): void {
    if (this.stopped) return;
    const client = this.topics.clientOf(topic) ?? '?';
    const reject = (reason: string): void => this.o.log({ type: 'rejected', round: this.round, client, reason });
    if (this.o.clients && !this.o.clients.includes(client)) return reject(`client ${client} is not in this run's client list`);
    let header;
    try {
      header = decodeHeader(payload, { kind: 'update', session: this.o.session });
    } catch (e) {
      return reject(messageOf(e));
    }
    if (header.sender !== client) return reject(`sender ${header.sender} published on ${client}'s topic`);
    if (!this.open || header.round !== this.round) {
      const reason = header.round > this.round ? 'early' : 'late';
      this.o.log({ type: 'ignored', round: header.round, client, reason });
      return;
    }
    if (this.received.has(client)) {
      this.o.log({ type: 'ignored', round: header.round, client, reason: 'duplicate' });
      return;
    }
    let posterior: Posterior;
    try {
      posterior = decodeMessage(payload, { kind: 'update', session: this.o.session, shapes: this.shapes }).posterior;
      for (const [name, p] of Object.entries(posterior.params)) {
        if (!(p.ess <= this.o.limits.maxEss)) throw new FederatedMessageError(`ess ${p.ess} of '${name}' is over maxEss ${this.o.limits.maxEss}`);
      }
    } catch (e) {
      return reject(messageOf(e));
    }
    this.received.set(client, { client, posterior });
    this.o.log({ type: 'accepted', round: this.round, client });
    if (this.received.size >= this.o.quorum) this.close('quorum');
  }

  private close(by: 'quorum' | 'deadline'): void {
    this.open = false;
    if (this.timer) clearTimeout(this.timer);
    this.advance(by).catch((e) => {
      this.stop();
      this.rejectDone(e);
    });
  }

  private async advance(by: 'quorum' | 'deadline'): Promise<void> {
    const updates = [...this.received.values()];
    // Every update was validated by decodeMessage when it arrived.
    const result = aggregateValidated(this.o.rule, this.global, updates, this.o.limits, { damping: this.o.damping });
    for (const [client, elements] of Object.entries(result.report.clipped)) this.o.log({ type: 'clipped', round: this.round, client, elements });
    this.o.log({ type: 'closed', round: this.round, clients: updates.map((u) => u.client).sort(), clamped: result.clampedTotal, by });
    const next = this.round + 1;
    const final = next >= this.o.rounds;
    const bytes = encodeMessage({ kind: 'global', session: this.o.session, round: next, sender: this.o.id, final, posterior: result.global });
    await this.o.checkpoint?.save(bytes);
    if (this.stopped) return;
    this.round = next;
    this.global = result.global;
    this.currentBytes = bytes;
    if (final) {
      await this.publishCurrent(true);
      this.resolveDone(this.global);
      return;
    }
    await this.openRound();
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function defaultLog(event: FederatedEvent): void {
  if (event.type === 'rejected') console.warn(`federated: rejected an update from ${event.client} in round ${event.round}: ${event.reason}`);
}

/** A CheckpointStore on a file (Node and Deno): atomic saves through src/checkpoint's saveCheckpointFile. */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
    async save(bytes) {
      const { saveCheckpointFile } = await import('../checkpoint/files-node.js');
      await saveCheckpointFile(path, bytes);
    },
    async load() {
      const fs = await import('node:fs/promises');
      const exists = await fs.stat(path).then(() => true, () => false);
      if (!exists) return undefined;
      const { loadCheckpointFile } = await import('../checkpoint/files-node.js');
      return loadCheckpointFile(path);
    },
  };
}

/** A CheckpointStore in a browser's origin private file system (atomic saves: src/checkpoint/files-browser.ts). */
export function opfsCheckpointStore(name: string): CheckpointStore {
  return {
    async save(bytes) {
      const { saveCheckpointToOpfs } = await import('../checkpoint/files-browser.js');
      await saveCheckpointToOpfs(name, bytes);
    },
    async load() {
      const { loadCheckpointFromOpfs } = await import('../checkpoint/files-browser.js');
      try {
        return await loadCheckpointFromOpfs(name);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('no checkpoint named')) return undefined;
        throw e;
      }
    },
  };
}
