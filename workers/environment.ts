// The one place that asks which JavaScript environment this is. Everything environment-specific
// (starting a worker, its crash events) sits behind the adapter this picks (adapters.ts).

export type Environment = 'node' | 'deno' | 'browser' | 'web-worker' | 'unknown';

export function detectEnvironment(): Environment {
  const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } }; document?: unknown; WorkerGlobalScope?: unknown };
  if (typeof g.Deno === 'object' && g.Deno !== null) return 'deno';
  if (typeof g.process?.versions?.node === 'string') return 'node';
  if (typeof g.document === 'object') return 'browser';
  if (typeof g.WorkerGlobalScope === 'function') return 'web-worker';
  return 'unknown';
}
