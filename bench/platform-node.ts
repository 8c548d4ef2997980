// What the numbers were measured on, in Node, Deno or Bun (bench/web/platform-web.ts is the browser's).
// A benchmark without its machine is not a result; users compare devices by this block.

import os from 'node:os';
import type { Platform } from './results.js';

type DenoLike = { Deno?: { version?: { deno?: string } } };
type BunLike = { Bun?: { version?: string } };

export function describePlatform(args: readonly string[], quick: boolean): Platform {
  const g = globalThis as DenoLike & BunLike;
  let runtime = 'node';
  let version = process.version;
  if (g.Deno?.version?.deno) {
    runtime = 'deno';
    version = g.Deno.version.deno;
  } else if (g.Bun?.version) {
    runtime = 'bun';
    version = g.Bun.version;
  }
  const cpus = os.cpus();
  return {
    runtime,
    version,
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpu: cpus[0]?.model?.trim() || 'unknown',
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString(),
    args: [...args],
    quick,
  };
}
