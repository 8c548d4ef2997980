// @ts-check
// The body of a kernel worker, whatever the environment: comlink exposes init / serve / configure;
// serve() is a blocking loop that waits on this worker's control slot (Atomics.wait) and runs
// kernels on the shared WebAssembly.Memory until told to pause or exit. The environment-specific
// entries (kernel-worker.js for browsers and Deno, kernel-worker-node.js) only supply the comlink
// endpoint and a way to die abruptly (for fault-injection tests).

import { expose } from 'comlink/dist/esm/comlink.mjs';
import * as P from './protocol.js';

/**
 * @typedef {{ kind: 'exit' | 'hang' | 'throw' | 'late', afterChunks: number, kernel?: string, lateMs?: number }} Fault
 * @typedef {{ module: WebAssembly.Module, memory: WebAssembly.Memory, control: SharedArrayBuffer, args: SharedArrayBuffer, slot: number, names: string[] }} InitMessage
 */

/**
 * @param {import('comlink').Endpoint} endpoint
 * @param {() => void} die ends this worker at once, as a crash would
 * @returns {{ announceDeath(): void }} call from the environment's exit hook: marks the slot DIED
 *   and wakes the main thread, which may be blocked synchronously (a sharded GEMM) and cannot see
 *   the worker's exit event until it returns
 */
export function startKernelWorker(endpoint, die) {
  /** @type {Record<string, Function>} */
  let exports = {};
  /** @type {string[]} */
  let names = [];
  /** @type {Int32Array} */
  let ctl = new Int32Array(0);
  /** @type {Float64Array} */
  let args = new Float64Array(0);
  /** @type {WebAssembly.Memory | undefined} */
  let memory;
  let lastSeq = 0;
  /** @type {Fault | undefined} */
  let fault;

  /** @param {number} chunk */
  function injectFault(chunk) {
    if (!fault || fault.kind === 'late' || chunk < fault.afterChunks) return;
    const kernel = ctl[P.OP] === P.OP_DRAW_AHEAD ? 'fillNormal' : names[args[P.A_EXPORT]];
    if (fault.kernel && kernel !== fault.kernel) return;
    const kind = fault.kind;
    fault = undefined;
    if (kind === 'exit') die();
    if (kind === 'throw') throw new Error('injected kernel fault');
    if (kind === 'hang') for (;;) Atomics.wait(ctl, P.SLOT_INTS - 1, 0, 1000);
  }

  const api = {
    /** @param {InitMessage} m */
    init(m) {
      const imports = /** @type {WebAssembly.Imports} */ ({});
      for (const imp of WebAssembly.Module.imports(m.module)) {
        const ns = (imports[imp.module] ??= {});
        ns[imp.name] = imp.kind === 'memory' ? m.memory : () => { throw new Error(`kernel worker: import ${imp.module}.${imp.name} is not provided`); };
      }
      exports = /** @type {Record<string, Function>} */ (/** @type {unknown} */ (new WebAssembly.Instance(m.module, imports).exports));
      names = m.names;
      memory = m.memory;
      ctl = new Int32Array(m.control, m.slot * P.SLOT_INTS * 4, P.SLOT_INTS);
      args = new Float64Array(m.args, m.slot * P.SLOT_FLOATS * 8, P.SLOT_FLOATS);
      lastSeq = Atomics.load(ctl, P.GO);
      const missing = names.filter((n) => typeof exports[n] !== 'function');
      if (missing.length > 0) throw new Error(`kernel worker: the module lacks ${missing.join(', ')}`);
      return true;
    },

    /** @param {{ fault?: Fault }} options */
    configure(options) {
      fault = options.fault;
      return true;
    },

    /** Runs ops until OP_PAUSE (resolves 'paused') or OP_EXIT (resolves 'exit'). */
    serve() {
      for (;;) {
        Atomics.wait(ctl, P.GO, lastSeq);
        const seq = Atomics.load(ctl, P.GO);
        if (seq === lastSeq) continue;
        lastSeq = seq;
        const op = ctl[P.OP];
        if (op === P.OP_PAUSE || op === P.OP_EXIT) {
          Atomics.store(ctl, P.STATUS, P.STATUS_OK);
          Atomics.store(ctl, P.DONE, seq);
          Atomics.notify(ctl, P.DONE);
          return op === P.OP_EXIT ? 'exit' : 'paused';
        }
        // A late worker (tests): woken, but not scheduled for lateMs, as under a busy process.
        if (op === P.OP_KERNEL && fault?.kind === 'late') Atomics.wait(ctl, P.SLOT_INTS - 1, 0, fault.lateMs ?? 50);
        if (op === P.OP_KERNEL && !P.claimShard(ctl, seq)) {
          // The main thread ran this shard itself (the worker woke too late): acknowledge it.
          ctl[P.RESULT] = 0;
          ctl[P.SHARD_US] = 0;
          Atomics.store(ctl, P.STATUS, P.STATUS_OK);
          Atomics.store(ctl, P.DONE, seq);
          Atomics.notify(ctl, P.DONE);
          continue;
        }
        const started = performance.now();
        try {
          const result =
            op === P.OP_DRAW_AHEAD
              ? P.drawAheadChunks(exports.fillNormal, new Int32Array(/** @type {WebAssembly.Memory} */ (memory).buffer), args[P.A_ARGS], fault ? injectFault : undefined)
              : P.runKernelOp(exports, names, args, (done) => Atomics.store(ctl, P.PROGRESS, done), fault ? injectFault : undefined);
          ctl[P.RESULT] = result;
          ctl[P.SHARD_US] = Math.min(0x7fffffff, Math.round((performance.now() - started) * 1000));
          Atomics.store(ctl, P.STATUS, P.STATUS_OK);
        } catch (error) {
          Atomics.store(ctl, P.STATUS, P.STATUS_ERROR);
          Atomics.store(ctl, P.DONE, seq);
          Atomics.notify(ctl, P.DONE);
          throw error; // rejects serve(): the pool reads the message from there
        }
        Atomics.store(ctl, P.DONE, seq);
        Atomics.notify(ctl, P.DONE);
      }
    },
  };
  expose(api, endpoint);
  return {
    announceDeath() {
      if (ctl.length === 0) return;
      Atomics.store(ctl, P.DIED, 1);
      Atomics.notify(ctl, P.DONE);
    },
  };
}
