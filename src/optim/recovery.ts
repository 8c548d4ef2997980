// Device-loss recovery (issue: a lost GPU device must lose nothing): the policy an optimizer
// follows — how often it keeps a snapshot, how it gets a replacement backend — and what it
// reports when it fails over.

import type { Backend, BackendKind } from '../backend.js';
import { ConfigError } from '../errors.js';
import * as check from './validate.js';

/** What happened in a device-loss failover. */
export interface RecoveryInfo {
  from: BackendKind;
  to: BackendKind;
  description: string;
  /** Step count when the loss was detected. */
  lostAtStep: number;
  /** Step of the snapshot the optimizer continues from. */
  restoredStep: number;
  cause: string;
}

export interface RecoveryOptions {
  /** Keep a state snapshot every N steps (taken asynchronously); 0 disables recovery. */
  snapshotEvery?: number;
  /** Makes the replacement backend; default: a new WebGPU device, else wasm, else js. */
  replace?: () => Promise<Backend>;
}

export interface RecoveryPolicy {
  snapshotEvery: number;
  replace: () => Promise<Backend>;
  onRecover?: (info: RecoveryInfo) => void;
}

/** The call that hit a device loss rejects with this; the optimizer already runs on `info.to`. */
export class RecoveredError extends Error {
  override name = 'RecoveredError';
  constructor(
    readonly info: RecoveryInfo,
    override readonly cause: Error,
  ) {
    super(
      `The ${info.from} backend failed (${cause.message}); the optimizer now runs on ${info.to} (${info.description}) ` +
        `from the snapshot of step ${info.restoredStep} (lost ${info.lostAtStep - info.restoredStep} step(s)). ` +
        `Rebind your model to the new backend and repeat the interrupted block or step.`,
    );
  }
}

export function isDeviceLoss(error: unknown): boolean {
  return error instanceof Error && error.name === 'DeviceLostError';
}

/** Default failover: a fresh GPU device if one can be had, else WebAssembly, else plain TypeScript. */
async function defaultReplacement(): Promise<Backend> {
  try {
    const { createWebGpuBackend } = await import('../../gpu/webgpu-backend.js');
    return await createWebGpuBackend();
  } catch {
    try {
      const { createWasmBackend } = await import('../backends/wasm.js');
      return await createWasmBackend();
    } catch {
      const { JsBackend } = await import('../backends/js.js');
      return new JsBackend();
    }
  }
}

export function parseRecovery(where: string, raw: unknown, onRecover: unknown, kind: BackendKind): RecoveryPolicy {
  if (onRecover !== undefined && typeof onRecover !== 'function') throw new ConfigError(`${where}: onRecover must be a function (info) => void`);
  // CPU memory does not vanish under the optimizer; a GPU device can.
  const defaultEvery = kind === 'webgpu' ? 100 : 0;
  if (raw === undefined) return { snapshotEvery: defaultEvery, replace: defaultReplacement, onRecover: onRecover as RecoveryPolicy['onRecover'] };
  if (raw === false) return { snapshotEvery: 0, replace: defaultReplacement };
  if (raw === null || typeof raw !== 'object') throw new ConfigError(`${where}: recovery must be false or { snapshotEvery?, replace? }`);
  check.knownKeys(`${where} recovery`, raw, ['snapshotEvery', 'replace']);
  const r = raw as RecoveryOptions;
  const every = r.snapshotEvery === undefined ? Math.max(defaultEvery, 100) : r.snapshotEvery;
  if (!Number.isInteger(every) || every < 0) throw new ConfigError(`${where}: recovery.snapshotEvery must be an integer ≥ 0, got ${every}`);
  if (r.replace !== undefined && typeof r.replace !== 'function') throw new ConfigError(`${where}: recovery.replace must be a function returning a Promise<Backend>`);
  return { snapshotEvery: every, replace: r.replace ?? defaultReplacement, onRecover: onRecover as RecoveryPolicy['onRecover'] };
}
