// A federated client (docs/FEDERATED.md §4): waits for round r's global posterior on
// <prefix>/global, trains on its own data from it (the `train` callback: E local epochs with IVON,
// AdamW, anything that returns a posterior), publishes its answer on <prefix>/update/<id>, and
// re-sends that same answer every `retryMs` until the global of a later round arrives — so a lost
// message, a broker hiccup or a restarted coordinator costs a retry, never a round. An answer is
// computed once per round and cached: re-sending is byte-identical, and a repeated or replayed
// global does not train again.

import type { Posterior } from '../posterior/types.js';
import { UsageError } from '../errors.js';
import { decodeMessage, encodeMessage, checkId, type Message } from './wire.js';
import { topicsFor, type Transport } from './transport.js';

export type ClientEvent =
  | { type: 'trained'; round: number; bytes: number }
  | { type: 'resent'; round: number }
  | { type: 'rejected'; reason: string }
  | { type: 'stale'; round: number };

export interface ClientOptions {
  transport: Transport;
  id: string;
  session: string;
  /** Topic prefix (default 'ivon-fl/<session>'). */
  prefix?: string;
  /** The coordinator's id (default 'coordinator'); globals from anyone else are refused. */
  coordinator?: string;
  /** Parameter names and shapes of the model: a global of another shape is refused. */
  shapes: Readonly<Record<string, readonly number[]>>;
  /** Trains from round `round`'s global posterior and returns this client's posterior. */
  train: (round: number, global: Posterior) => Promise<Posterior>;
  /** Milliseconds between re-sends of the current answer (default 2000). */
  retryMs?: number;
  log?: (event: ClientEvent) => void;
}

export class FederatedClient {
  /** Resolves with the final global posterior (the one published with final = true). */
  readonly done: Promise<Posterior>;
  private resolveDone!: (p: Posterior) => void;
  private rejectDone!: (e: unknown) => void;
  private readonly topics;
  private readonly coordinator: string;
  private readonly retryMs: number;
  private lastRound = -1;
  private answer: Uint8Array | undefined;
  private retry: ReturnType<typeof setInterval> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: ClientOptions) {
    if (typeof o !== 'object' || o === null) throw new UsageError('FederatedClient: pass an options object');
    checkId('client id', o.id);
    checkId('session', o.session);
    this.coordinator = checkId('coordinator id', o.coordinator ?? 'coordinator');
    if (typeof o.transport?.publish !== 'function' || typeof o.transport?.subscribe !== 'function') {
      throw new UsageError('FederatedClient: transport must be a Transport ({ publish, subscribe, close }), e.g. await connectMqtt({ url, username, password })');
    }
    if (typeof o.train !== 'function') throw new UsageError('FederatedClient: train must be a function (round, global) => Promise<Posterior>');
    if (!o.shapes || Object.keys(o.shapes).length === 0) throw new UsageError('FederatedClient: shapes must name every parameter of the model and its shape');
    this.retryMs = o.retryMs ?? 2000;
    if (!(this.retryMs > 0)) throw new UsageError(`FederatedClient: retryMs must be > 0, not ${String(o.retryMs)}`);
    this.topics = topicsFor(o.prefix ?? `ivon-fl/${o.session}`);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  async start(): Promise<void> {
    await this.o.transport.subscribe(this.topics.global, (_topic, payload) => this.onGlobal(payload));
  }

  /** Stops answering (a client that drops out); does not close the transport. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearInterval(this.retry);
  }

  private onGlobal(payload: Uint8Array): void {
    if (this.stopped) return;
    let message: Message;
    try {
      message = decodeMessage(payload, { kind: 'global', session: this.o.session, shapes: this.o.shapes });
      if (message.sender !== this.coordinator) throw new Error(`global sent by ${message.sender}, not the coordinator ${this.coordinator}`);
    } catch (e) {
      this.log({ type: 'rejected', reason: e instanceof Error ? e.message : String(e) });
      return;
    }
    // Runs one global at a time, in arrival order, so training never overlaps itself.
    this.queue = this.queue.then(() => this.handle(message)).catch((e) => {
      this.stop();
      this.rejectDone(e);
    });
  }

  private async handle(message: Message): Promise<void> {
    if (this.stopped) return;
    if (message.round < this.lastRound) return this.log({ type: 'stale', round: message.round });
    if (message.round === this.lastRound) {
      // The same round again (a restarted coordinator republished it): answer again, do not retrain.
      if (this.answer) await this.send(message.round, true);
      return;
    }
    if (this.retry) clearInterval(this.retry);
    this.answer = undefined;
    this.lastRound = message.round;
    if (message.final) {
      this.stop();
      this.resolveDone(message.posterior);
      return;
    }
    const posterior = await this.o.train(message.round, message.posterior);
    if (this.stopped || this.lastRound !== message.round) return;
    this.answer = encodeMessage({ kind: 'update', session: this.o.session, round: message.round, sender: this.o.id, final: false, posterior });
    this.log({ type: 'trained', round: message.round, bytes: this.answer.length });
    await this.send(message.round, false);
    const round = message.round;
    this.retry = setInterval(() => {
      if (!this.stopped && this.lastRound === round) this.send(round, true).catch(() => {});
    }, this.retryMs);
  }

  private async send(round: number, resend: boolean): Promise<void> {
    if (!this.answer) return;
    if (resend) this.log({ type: 'resent', round });
    await this.o.transport.publish(this.topics.update(this.o.id), this.answer);
  }

  private log(event: ClientEvent): void {
    this.o.log?.(event);
  }
}
