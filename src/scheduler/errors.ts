// The error createRuntime throws when no requested backend can run, with every backend's reason.

import type { BackendKind } from '../backend.js';

export class NoBackendError extends Error {
  override name = 'NoBackendError';
  constructor(readonly reasons: Partial<Record<BackendKind, string>>) {
    super(
      `createRuntime: no requested backend can run here. ${Object.entries(reasons)
        .map(([kind, why]) => `${kind}: ${why}`)
        .join('; ')}. Add 'js' to the backend list (it runs everywhere), or fix what the reasons name.`,
    );
  }
}
