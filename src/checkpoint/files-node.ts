// Checkpoint files for Node and Deno (through its node:fs compatibility). Saves are atomic: the
// bytes go to a temporary file beside the target, are fsynced, then renamed over the target and
// the directory is fsynced, so a crash at any moment leaves either the old or the new checkpoint
// at `path`, never a torn one. node: modules are imported lazily so browser bundles stay clean.
// A save killed midway leaves its temporary (`<target>.tmp-<pid>-<16 hex>`, next to the target);
// the next save to the same path removes such temporaries once they are STALE_TEMP_MS old.
// Loading opens the path without blocking (a FIFO never hangs it), checks the opened handle is a
// regular file no larger than maxBytes and 2 GiB, and reads exactly that many bytes.

import type { OptimizerSnapshot } from '../optim/snapshot.js';
import { decodeCheckpoint, encodeCheckpoint, type DecodeOptions } from './checkpoint.js';
import { CheckpointError, quote } from './errors.js';
import { DEFAULT_LIMITS } from './safetensors.js';

export async function saveCheckpointFile(path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new CheckpointError('checkpoint path must be a non-empty string', 'Pass the file path to save to');
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError('checkpoint bytes must be a Uint8Array', 'Pass the result of encodeCheckpoint');
  }
  const fs = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const { pid } = await import('node:process');
  await removeStaleTemporaries(fs, path);
  const tmp = `${path}.tmp-${pid}-${randomHex()}`;
  const file = await fs.open(tmp, 'wx', 0o644).catch((e: { code?: string }) => {
    if (e.code !== 'ENOENT') throw e;
    throw new CheckpointError(`the directory of ${quote(path)} does not exist`, 'Create it first (fs.mkdir with recursive: true)');
  });
  try {
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(fs, dirname(path));
}

/** Makes the rename itself durable. Windows cannot open directories: there the rename is all we get. */
async function syncDirectory(fs: typeof import('node:fs/promises'), dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EINVAL') throw e;
  } finally {
    await handle?.close();
  }
}

function randomHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A temporary's mtime moves with every write, so one untouched this long belongs to a save that
 * died (a live save of even 4 GiB writes far more often than this).
 */
export const STALE_TEMP_MS = 15 * 60 * 1000;
const TEMP_SUFFIX = /^\.tmp-\d+-[0-9a-f]{16}$/;

/** Removes `<path>.tmp-<pid>-<hex>` files left by killed saves of `path`; never fails the save. */
async function removeStaleTemporaries(fs: typeof import('node:fs/promises'), path: string): Promise<void> {
  const { basename, dirname, join } = await import('node:path');
  const dir = dirname(path);
  const base = basename(path);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(base) || !TEMP_SUFFIX.test(name.slice(base.length))) continue;
    const full = join(dir, name);
    const stat = await fs.lstat(full).catch(() => undefined);
    if (stat?.isFile() && now - stat.mtimeMs > STALE_TEMP_MS) await fs.rm(full, { force: true }).catch(() => undefined);
  }
}

/** Largest checkpoint file read: 2 GiB (one Uint8Array; larger models need a sharded format). */
export const MAX_FILE_BYTES = 2 ** 31;

/** Reads a checkpoint file, refusing anything but a regular file of at most maxBytes (and 2 GiB) before reading it. */
export async function loadCheckpointFile(path: string, options: { maxBytes?: number } = {}): Promise<Uint8Array> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new CheckpointError('checkpoint path must be a non-empty string', 'Pass the file path to load');
  }
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
    throw new CheckpointError(`maxBytes is ${String(maxBytes).slice(0, 40)}`, 'Pass maxBytes as a non-negative number of bytes');
  }
  const fs = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const handle = await fs.open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((e: { code?: string }) => {
    if (e.code === 'ENOENT') throw new CheckpointError(`no checkpoint file at ${quote(path)}`, 'Check the path, or save a checkpoint there first');
    throw new CheckpointError(`cannot open ${quote(path)} (${e.code ?? 'error'})`, 'Check the path and its permissions');
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new CheckpointError(`${quote(path)} is ${fileKind(stat)}, not a regular file`, 'Pass the path of a checkpoint file');
    }
    const cap = Math.min(maxBytes, MAX_FILE_BYTES);
    if (stat.size > cap) {
      const which = cap === maxBytes ? `the ${maxBytes}-byte maxBytes cap` : `the ${MAX_FILE_BYTES}-byte (2 GiB) limit of one file`;
      throw new CheckpointError(`checkpoint file ${quote(path)} is ${stat.size} bytes, over ${which}`, 'Raise maxBytes if this file is trusted and really this large');
    }
    const bytes = new Uint8Array(stat.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await handle.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at !== bytes.length) {
      throw new CheckpointError(`checkpoint file ${quote(path)} shrank from ${bytes.length} to ${at} bytes while being read`, 'Load it again once no one is writing it');
    }
    return bytes;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`cannot read ${quote(path)} (${(e as { code?: string }).code ?? 'error'})`, 'Check the file and its permissions');
  } finally {
    await handle.close();
  }
}

function fileKind(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

export async function saveCheckpoint(path: string, snapshot: OptimizerSnapshot): Promise<void> {
  await saveCheckpointFile(path, encodeCheckpoint(snapshot));
}

export async function loadCheckpoint(path: string, options: DecodeOptions = {}): Promise<OptimizerSnapshot> {
  return decodeCheckpoint(await loadCheckpointFile(path, { maxBytes: options.maxBytes }), options);
}
