// Checkpoint files for Node and Deno (through its node:fs compatibility). Saves are atomic: the
// bytes go to a temporary file beside the target, are fsynced, then renamed over the target and
// the directory is fsynced, so a crash at any moment leaves either the old or the new checkpoint
// at `path`, never a torn one. node: modules are imported lazily so browser bundles stay clean.

import type { OptimizerSnapshot } from '../optim/snapshot.js';
import { decodeCheckpoint, encodeCheckpoint, type DecodeOptions } from './checkpoint.js';
import { CheckpointError } from './errors.js';
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
  const tmp = `${path}.tmp-${pid}-${randomHex()}`;
  const file = await fs.open(tmp, 'wx', 0o644).catch((e: { code?: string }) => {
    if (e.code !== 'ENOENT') throw e;
    throw new CheckpointError(`the directory of ${path} does not exist`, 'Create it first (fs.mkdir with recursive: true)');
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

/** Reads a checkpoint file, refusing files over maxBytes before reading them. */
export async function loadCheckpointFile(path: string, options: { maxBytes?: number } = {}): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const { size } = await fs.stat(path).catch((e: { code?: string }) => {
    if (e.code !== 'ENOENT') throw e;
    throw new CheckpointError(`no checkpoint file at ${path}`, 'Check the path, or save a checkpoint there first');
  });
  if (size > maxBytes) {
    throw new CheckpointError(
      `checkpoint file ${path} is ${size} bytes, over the ${maxBytes}-byte cap`,
      'Raise maxBytes if this file is trusted and really this large',
    );
  }
  const data = await fs.readFile(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export async function saveCheckpoint(path: string, snapshot: OptimizerSnapshot): Promise<void> {
  await saveCheckpointFile(path, encodeCheckpoint(snapshot));
}

export async function loadCheckpoint(path: string, options: DecodeOptions = {}): Promise<OptimizerSnapshot> {
  return decodeCheckpoint(await loadCheckpointFile(path, { maxBytes: options.maxBytes }), options);
}
