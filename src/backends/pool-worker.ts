// One kernel worker as the pool sees it: started through the environment's adapter, initialised
// over comlink with the compiled module and the shared memory, then parked in its serve() loop
// where it waits on its control slot. Comlink carries only control (init, configure, shutdown);
// kernels are signalled through the slot (pool-runner.ts).

import { wrap, type Remote } from 'comlink/dist/esm/comlink.mjs';
import type { WorkerAdapter, WorkerHandle } from '../../workers/adapter.js';
import * as P from '../../workers/protocol.js';

/** A fault the worker injects into itself on a later kernel (tests of the crash/hang paths). */
export interface WorkerFault {
  /** 'late': not a fault but a worker the scheduler keeps waiting — it sleeps lateMs before it claims each kernel op, for good. */
  kind: 'exit' | 'hang' | 'throw' | 'late';
  lateMs?: number;
  /** Undo chunks (of the in-place kernels) to finish first; 0 for kernels without undo. */
  afterChunks: number;
  /** Only on this kernel (export name); any kernel when absent. */
  kernel?: string;
}

interface WorkerApi {
  init(message: {
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    control: SharedArrayBuffer;
    args: SharedArrayBuffer;
    slot: number;
    names: string[];
  }): boolean;
  configure(options: { fault?: WorkerFault }): boolean;
  serve(): 'paused' | 'exit';
}

export interface SharedControl {
  readonly control: SharedArrayBuffer;
  readonly args: SharedArrayBuffer;
}

export function createSharedControl(slots: number): SharedControl {
  return {
    control: new SharedArrayBuffer(slots * P.SLOT_INTS * 4),
    args: new SharedArrayBuffer(slots * P.SLOT_FLOATS * 8),
  };
}

export class PoolWorker {
  readonly ctl: Int32Array;
  readonly args: Float64Array;
  /** Set once the worker died (crash, terminate); it is then replaced, never reused. */
  deadBecause: string | undefined;
  /** The rejection of serve() when a kernel threw inside the worker. */
  serveError: Error | undefined;
  private serving: Promise<unknown> = Promise.resolve();
  private seq = 0;

  private constructor(
    readonly slot: number,
    private readonly handle: WorkerHandle,
    private readonly remote: Remote<WorkerApi>,
    shared: SharedControl,
  ) {
    this.ctl = new Int32Array(shared.control, slot * P.SLOT_INTS * 4, P.SLOT_INTS);
    this.args = new Float64Array(shared.args, slot * P.SLOT_FLOATS * 8, P.SLOT_FLOATS);
    this.seq = Atomics.load(this.ctl, P.GO);
    Atomics.store(this.ctl, P.DIED, 0); // the slot's previous worker, if any, has been terminated
    handle.died.then((how) => {
      this.deadBecause = how;
      // Wakes a main thread waiting on this slot, so a crash is seen at once, not at the timeout.
      Atomics.notify(this.ctl, P.DONE);
    });
  }

  static async start(
    adapter: WorkerAdapter,
    url: URL | string | undefined,
    slot: number,
    shared: SharedControl,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: string[],
  ): Promise<PoolWorker> {
    const handle = adapter.start(url);
    const worker = new PoolWorker(slot, handle, wrap<WorkerApi>(handle.endpoint), shared);
    const init = worker.remote.init({ module, memory, control: shared.control, args: shared.args, slot, names });
    const outcome = await Promise.race([init.then(() => undefined), handle.died]);
    if (outcome !== undefined) {
      throw new Error(`kernel worker ${slot} did not start (${outcome}); check workerUrl (${url === undefined ? `default: ${adapter.defaultLocation}` : String(url)}) and, in browsers, the worker-src CSP`);
    }
    worker.serve();
    handle.setBusy(false);
    return worker;
  }

  /** The worker is gone: its exit event arrived, or it marked its slot while exiting. */
  get dead(): boolean {
    return this.deadBecause !== undefined || Atomics.load(this.ctl, P.DIED) !== 0;
  }

  /**
   * An op the main thread took over (P.claimShard) and the worker has not yet acknowledged: until it
   * has, nothing else may be signalled to it (it would still run ahead of the new op's arguments).
   */
  private owedAck = 0;
  /** When the main thread took that op over (Date.now()). */
  private owedSince = 0;
  /** Set once a fault (not 'late') was injected: its shards are never taken over, so the fault fires where the test put it. */
  private faultArmed = false;

  /** Claims the kernel op last signalled, for the main thread, if the worker has not started it. */
  takeOver(seq: number): boolean {
    if (this.faultArmed || seq !== this.seq || !P.claimShard(this.ctl, seq)) return false;
    this.owedAck = seq;
    this.owedSince = Date.now();
    return true;
  }

  /** Whether it has owed that acknowledgement for longer than `timeoutMs`: it is not running at all (hung). */
  ackOverdue(timeoutMs: number): boolean {
    return !this.acknowledged && Date.now() - this.owedSince > timeoutMs;
  }

  /** False while the worker still owes the acknowledgement of an op the main thread took over. */
  get acknowledged(): boolean {
    return this.owedAck === 0 || ((Atomics.load(this.ctl, P.DONE) - this.owedAck) | 0) >= 0 || this.dead;
  }

  /** Signals op `op` (arguments already in `args`); returns its sequence number. */
  signal(op: number): number {
    this.seq = (this.seq + 1) | 0; // int32, as the slot stores it: comparisons with DONE hold after 2^31 ops
    this.ctl[P.OP] = op;
    Atomics.store(this.ctl, P.TAKEN, this.seq);
    Atomics.store(this.ctl, P.PROGRESS, 0);
    Atomics.store(this.ctl, P.STATUS, P.STATUS_OK);
    Atomics.store(this.ctl, P.GO, this.seq);
    Atomics.notify(this.ctl, P.GO);
    return this.seq;
  }

  setBusy(busy: boolean): void {
    this.handle.setBusy(busy);
  }

  /** Leaves the serve loop, applies `options`, and resumes serving (tests: fault injection). */
  async configure(options: { fault?: WorkerFault }, timeoutMs: number): Promise<void> {
    if (options.fault && options.fault.kind !== 'late') this.faultArmed = true;
    this.handle.setBusy(true);
    try {
      const seq = this.signal(P.OP_PAUSE);
      const deadline = Date.now() + timeoutMs;
      while (Atomics.load(this.ctl, P.DONE) !== seq) {
        if (this.deadBecause || Date.now() > deadline) throw new Error(`kernel worker ${this.slot} did not pause (${this.deadBecause ?? 'timeout'})`);
        await waitForChange(this.ctl, P.DONE, Atomics.load(this.ctl, P.DONE), 50);
      }
      await this.serving;
      await this.remote.configure(options);
      this.serve();
    } finally {
      this.handle.setBusy(false);
    }
  }

  /** Asks the worker to leave its loop, then ends it. */
  async shutdown(timeoutMs: number): Promise<void> {
    if (!this.deadBecause) {
      const seq = this.signal(P.OP_EXIT);
      await waitForChange(this.ctl, P.DONE, seq - 1, timeoutMs);
    }
    await this.handle.terminate();
  }

  /** Ends the worker; it counts as dead from this call on, so nothing more is signalled to it. */
  async terminate(): Promise<void> {
    this.deadBecause ??= 'terminated';
    await this.handle.terminate();
  }

  private serve(): void {
    this.serveError = undefined;
    this.serving = this.remote.serve().catch((error: Error) => {
      this.serveError = error;
    });
  }
}

/**
 * Resolves when ctl[index] may differ from `old` or after `timeoutMs`: Atomics.waitAsync where
 * the engine has it, else polling through a zero-delay macrotask (MessageChannel: no 4 ms clamp).
 */
export async function waitForChange(ctl: Int32Array, index: number, old: number, timeoutMs: number): Promise<void> {
  if (Atomics.load(ctl, index) !== old) return;
  const waitAsync = (Atomics as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
  if (waitAsync) {
    const result = waitAsync(ctl, index, old, Math.max(0, timeoutMs));
    if (result.async) await result.value;
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(ctl, index) === old && Date.now() < deadline) await macrotask();
}

function macrotask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}
