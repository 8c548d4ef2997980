// Checkpoints in browsers: the Origin Private File System (OPFS) for saves that survive reloads,
// and a Blob download so users can keep or share a file. No Node imports here.
//
// OPFS save: the bytes go to a temporary file (createWritable + close commits them whole), which is
// then renamed over the target with FileSystemHandle.move() where the browser has it. Where it does
// not (or move refuses to replace the target), two slots `<name>.slot-a` / `.slot-b` alternate and a
// small `<name>.pointer` file names the complete one: the pointer is written only after the slot is
// closed, so a tab killed mid-save leaves the previous checkpoint readable.

import { CheckpointError } from './errors.js';

/** The part of FileSystemWritableFileStream used here. */
export interface OpfsWritable {
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort?(reason?: unknown): Promise<void>;
}

/** The part of FileSystemFileHandle used here (move() is not in every browser). */
export interface OpfsFile {
  createWritable(): Promise<OpfsWritable>;
  getFile(): Promise<Blob>;
  move?(newName: string): Promise<void>;
}

/** The part of FileSystemDirectoryHandle used here. */
export interface OpfsDirectory {
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFile>;
  removeEntry(name: string): Promise<void>;
}

export interface OpfsOptions {
  /** Directory to use; default the OPFS root (navigator.storage.getDirectory()). */
  directory?: OpfsDirectory;
}

const SLOTS = ['slot-a', 'slot-b'] as const;
type Slot = (typeof SLOTS)[number];

export async function saveCheckpointToOpfs(name: string, bytes: Uint8Array, options: OpfsOptions = {}): Promise<void> {
  checkName(name);
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError('checkpoint bytes must be a Uint8Array', 'Pass the result of encodeCheckpoint');
  }
  const dir = options.directory ?? (await opfsRoot());
  const tmpName = `${name}.tmp-${randomHex()}`;
  const tmp = await dir.getFileHandle(tmpName, { create: true });
  if (typeof tmp.move === 'function') {
    await writeWhole(tmp, bytes);
    try {
      await tmp.move(name);
      await removeIfPresent(dir, `${name}.pointer`);
      return;
    } catch {
      // move() exists but would not replace the target: fall back to the slots below.
    }
  }
  await removeIfPresent(dir, tmpName);
  const current = await readPointer(dir, name);
  const next: Slot = current === 'slot-a' ? 'slot-b' : 'slot-a';
  await writeWhole(await dir.getFileHandle(`${name}.${next}`, { create: true }), bytes);
  await writeWhole(await dir.getFileHandle(`${name}.pointer`, { create: true }), new TextEncoder().encode(next));
}

export async function loadCheckpointFromOpfs(name: string, options: OpfsOptions = {}): Promise<Uint8Array> {
  checkName(name);
  const dir = options.directory ?? (await opfsRoot());
  const slot = await readPointer(dir, name);
  const fileName = slot ? `${name}.${slot}` : name;
  const handle = await getExisting(dir, fileName);
  if (!handle) {
    throw new CheckpointError(`no checkpoint named ${JSON.stringify(name)} in the origin private file system`, 'Save one first with saveCheckpointToOpfs');
  }
  return new Uint8Array(await (await handle.getFile()).arrayBuffer());
}

/** Offers the bytes to the user as a file download (an object URL clicked through a hidden anchor). */
export function downloadCheckpoint(bytes: Uint8Array, filename = 'checkpoint.safetensors'): void {
  if (typeof document === 'undefined') {
    throw new CheckpointError('downloadCheckpoint needs a browser document', 'In Node or Deno use saveCheckpointFile');
  }
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  anchor.rel = 'noopener';
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  // Revoking at once cancels the download in some browsers; give it time to start.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

async function opfsRoot(): Promise<OpfsDirectory> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) {
    throw new CheckpointError('this environment has no origin private file system', 'Pass options.directory, or use saveCheckpointFile in Node/Deno');
  }
  return (await navigator.storage.getDirectory()) as unknown as OpfsDirectory;
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes('/') || name.includes('\\')) {
    throw new CheckpointError(`OPFS checkpoint name ${JSON.stringify(name)} is not a plain file name`, 'Use a non-empty name without slashes');
  }
}

async function writeWhole(handle: OpfsFile, bytes: Uint8Array): Promise<void> {
  const writable = await handle.createWritable();
  try {
    await writable.write(bytes);
  } catch (e) {
    await writable.abort?.(e);
    throw e;
  }
  await writable.close();
}

async function readPointer(dir: OpfsDirectory, name: string): Promise<Slot | undefined> {
  const handle = await getExisting(dir, `${name}.pointer`);
  if (!handle) return undefined;
  const text = await (await handle.getFile()).text();
  return SLOTS.find((s) => s === text);
}

async function getExisting(dir: OpfsDirectory, name: string): Promise<OpfsFile | undefined> {
  try {
    return await dir.getFileHandle(name);
  } catch (e) {
    if ((e as { name?: string }).name === 'NotFoundError') return undefined;
    throw e;
  }
}

async function removeIfPresent(dir: OpfsDirectory, name: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch (e) {
    if ((e as { name?: string }).name !== 'NotFoundError') throw e;
  }
}

function randomHex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}
