// Checkpoint files: Node (and Deno through node:fs) saves replace the target whole and leave no
// temporary behind; oversized files are refused before being read; the browser helpers keep the
// previous checkpoint when a save dies midway (OPFS with and without move()) and download a Blob.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CheckpointError,
  decodeCheckpoint,
  downloadCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  loadCheckpointFile,
  loadCheckpointFromOpfs,
  saveCheckpoint,
  saveCheckpointFile,
  saveCheckpointToOpfs,
} from '../src/checkpoint/index.js';
import type { OpfsDirectory, OpfsFile, OpfsWritable } from '../src/checkpoint/files-browser.js';
import { sampleSnapshot } from './fixtures/sample-snapshots.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivon-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Node files', () => {
  it('saves, replaces and loads a checkpoint, leaving no temporary file', async () => {
    const path = join(dir, 'a.ckpt');
    const first = sampleSnapshot('ivon', 1);
    const second = sampleSnapshot('ivon', 2);
    second.step = 18;
    await saveCheckpoint(path, first);
    await saveCheckpoint(path, second);
    const back = await loadCheckpoint(path);
    expect(back).toEqual(second);
    expect(await readdir(dir)).toEqual(['a.ckpt']);
  });

  it('a failed rename removes its temporary file and keeps the target', async () => {
    const target = join(dir, 'is-a-directory');
    await mkdir(join(target, 'child'), { recursive: true });
    await expect(saveCheckpointFile(target, encodeCheckpoint(sampleSnapshot('sgd')))).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.startsWith('is-a-directory'))).toEqual(['is-a-directory']);
    expect(await readdir(target)).toEqual(['child']);
    await rm(target, { recursive: true });
  });

  it('refuses a file over maxBytes before reading it', async () => {
    const path = join(dir, 'big.ckpt');
    await writeFile(path, new Uint8Array(4096));
    const err = await loadCheckpointFile(path, { maxBytes: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/4096 bytes, over the 1000-byte maxBytes cap/);
    await rm(path);
  });

  it('refuses a directory, a FIFO, a device and a socket, without blocking', async () => {
    const refused = async (path: string, maxBytes?: number) => {
      const started = performance.now();
      const err = await loadCheckpointFile(path, maxBytes === undefined ? {} : { maxBytes }).catch((e) => e);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(CheckpointError);
      return err.message as string;
    };
    const sub = join(dir, 'a-directory.ckpt');
    await mkdir(sub);
    expect(await refused(sub)).toMatch(/a-directory\.ckpt" is a directory, not a regular file/);
    const fifo = join(dir, 'fifo.ckpt');
    await promisify(execFile)('mkfifo', [fifo]);
    expect(await refused(fifo)).toMatch(/fifo\.ckpt" is a FIFO, not a regular file/);
    expect(await refused(fifo, 10)).toMatch(/is a FIFO/); // maxBytes never reached: nothing is read
    expect(await refused('/dev/zero')).toMatch(/"\/dev\/zero" is a device, not a regular file/);
    const socketPath = join(dir, 'socket.ckpt');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      expect(await refused(socketPath)).toMatch(/socket\.ckpt" (is a socket|\(ENXIO\))/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await rm(sub, { recursive: true });
    await rm(fifo);
  });

  it('refuses a file over 2 GiB whatever maxBytes says (a sparse 3 GiB file)', async () => {
    const path = join(dir, 'huge.ckpt');
    const handle = await open(path, 'w');
    await handle.truncate(3 * 2 ** 30);
    await handle.close();
    const err = await loadCheckpointFile(path, { maxBytes: 2 ** 40 }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/is 3221225472 bytes, over the 2147483648-byte \(2 GiB\) limit of one file/);
    await rm(path);
  });

  it('the next save of a path removes temporaries that killed saves of it left, once stale', async () => {
    const path = join(dir, 'model.ckpt');
    const hour = new Date(Date.now() - 3600_000);
    const stale = 'model.ckpt.tmp-4242-0123456789abcdef';
    const fresh = 'model.ckpt.tmp-4243-fedcba9876543210';
    const otherTarget = 'other.ckpt.tmp-4242-0123456789abcdef';
    const notOurs = 'model.ckpt.tmp-notes';
    for (const name of [stale, fresh, otherTarget, notOurs]) await writeFile(join(dir, name), 'partial');
    for (const name of [stale, otherTarget, notOurs]) await utimes(join(dir, name), hour, hour);
    await saveCheckpoint(path, sampleSnapshot('ivon', 3));
    const names = await readdir(dir);
    expect(names).not.toContain(stale);
    expect(names).toEqual(expect.arrayContaining(['model.ckpt', fresh, otherTarget, notOurs]));
    expect(await loadCheckpoint(path)).toEqual(sampleSnapshot('ivon', 3));
    for (const name of ['model.ckpt', fresh, otherTarget, notOurs]) await rm(join(dir, name));
  });

  it('loadCheckpoint applies the expectation of the live optimizer', async () => {
    const path = join(dir, 'b.ckpt');
    await saveCheckpoint(path, sampleSnapshot('adamw'));
    await expect(loadCheckpoint(path, { expect: { kind: 'ivon' } })).rejects.toThrow(/for adamw but the optimizer is ivon/);
    await rm(path);
  });

  it('names a missing file or directory', async () => {
    await expect(loadCheckpointFile(join(dir, 'none.ckpt'))).rejects.toThrow(/no checkpoint file at .*none\.ckpt/);
    await expect(saveCheckpointFile(join(dir, 'no-dir', 'x.ckpt'), new Uint8Array(8))).rejects.toThrow(/no-dir does not exist|directory of .* does not exist/);
  });

  it('validates its arguments', async () => {
    await expect(loadCheckpointFile('')).rejects.toBeInstanceOf(CheckpointError);
    await expect(loadCheckpointFile(join(dir, 'x'), { maxBytes: -1 })).rejects.toThrow(/maxBytes is -1/);
    await expect(saveCheckpointFile('', new Uint8Array(8))).rejects.toBeInstanceOf(CheckpointError);
    await expect(saveCheckpointFile(join(dir, 'c'), [1, 2] as unknown as Uint8Array)).rejects.toBeInstanceOf(CheckpointError);
  });

  it('works under Deno through its node:fs compatibility', async () => {
    const deno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));
    const script = fileURLToPath(new URL('./fixtures/deno-roundtrip.ts', import.meta.url));
    const path = join(dir, 'deno.ckpt');
    await promisify(execFile)('mkfifo', [`${path}.fifo`]);
    const { stdout } = await promisify(execFile)(deno, ['run', '--sloppy-imports', '--allow-read', '--allow-write', script, path], { timeout: 60_000 });
    await rm(`${path}.fifo`);
    const want = sampleSnapshot('adamw', 5);
    expect(JSON.parse(stdout)).toEqual({
      step: 17,
      kind: 'adamw',
      mean: Array.from(want.tensors['layer1.weight'].mean),
      refused: [`CheckpointError: "${path}.fifo" is a FIFO, not a regular file`, `CheckpointError: "${dir}" is a directory, not a regular file`],
    });
    // Node reads what Deno wrote.
    expect(await loadCheckpoint(path)).toEqual(want);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});

/** An in-memory OPFS directory: writes are buffered and committed on close(), as the spec says. */
class FakeDirectory implements OpfsDirectory {
  files = new Map<string, Uint8Array>();
  /** Names whose close() fails, as if the tab died before the commit. */
  failClose = new Set<string>();

  constructor(private readonly withMove: boolean) {}

  async getFileHandle(name: string, options: { create?: boolean } = {}): Promise<OpfsFile> {
    if (!this.files.has(name)) {
      if (!options.create) throw Object.assign(new Error(`${name} not found`), { name: 'NotFoundError' });
      this.files.set(name, new Uint8Array(0));
    }
    return this.handle(name);
  }

  async removeEntry(name: string): Promise<void> {
    if (!this.files.delete(name)) throw Object.assign(new Error(`${name} not found`), { name: 'NotFoundError' });
  }

  private handle(initial: string): OpfsFile {
    let name = initial;
    const dir = this;
    const file: OpfsFile = {
      async createWritable(): Promise<OpfsWritable> {
        let pending = new Uint8Array(0);
        return {
          async write(data: Uint8Array) {
            pending = data.slice();
          },
          async close() {
            if (dir.failClose.has(name)) throw new Error('tab killed');
            dir.files.set(name, pending);
          },
        };
      },
      async getFile() {
        return new Blob([dir.files.get(name) as BlobPart]);
      },
    };
    if (this.withMove) {
      file.move = async (newName: string) => {
        dir.files.set(newName, dir.files.get(name) as Uint8Array);
        dir.files.delete(name);
        name = newName;
      };
    }
    return file;
  }
}

describe('OPFS', () => {
  const v1 = encodeCheckpoint(sampleSnapshot('ivon', 1));
  const v2 = encodeCheckpoint(sampleSnapshot('ivon', 2));
  const v3 = encodeCheckpoint(sampleSnapshot('ivon', 3));

  it('with move(): saves through a temporary file renamed over the target', async () => {
    const directory = new FakeDirectory(true);
    await saveCheckpointToOpfs('run', v1, { directory });
    await saveCheckpointToOpfs('run', v2, { directory });
    expect([...directory.files.keys()]).toEqual(['run']);
    expect(await loadCheckpointFromOpfs('run', { directory })).toEqual(v2);
  });

  it('with move(): a save killed before its commit leaves the previous checkpoint', async () => {
    const directory = new FakeDirectory(true);
    await saveCheckpointToOpfs('run', v1, { directory });
    const original = directory.getFileHandle.bind(directory);
    directory.getFileHandle = async (name, options) => {
      if (name.startsWith('run.tmp-')) directory.failClose.add(name);
      return original(name, options);
    };
    await expect(saveCheckpointToOpfs('run', v2, { directory })).rejects.toThrow('tab killed');
    expect(decodeCheckpoint(await loadCheckpointFromOpfs('run', { directory }))).toEqual(sampleSnapshot('ivon', 1));
  });

  it('without move(): alternates two slots behind a pointer written last', async () => {
    const directory = new FakeDirectory(false);
    await saveCheckpointToOpfs('run', v1, { directory });
    expect(new TextDecoder().decode(directory.files.get('run.pointer'))).toBe('slot-a');
    await saveCheckpointToOpfs('run', v2, { directory });
    expect(new TextDecoder().decode(directory.files.get('run.pointer'))).toBe('slot-b');
    expect([...directory.files.keys()].sort()).toEqual(['run.pointer', 'run.slot-a', 'run.slot-b']);
    expect(await loadCheckpointFromOpfs('run', { directory })).toEqual(v2);
    // Killed after the slot was written but before the pointer moved: the previous one loads.
    directory.failClose.add('run.pointer');
    await expect(saveCheckpointToOpfs('run', v3, { directory })).rejects.toThrow('tab killed');
    expect(directory.files.get('run.slot-a')).toEqual(v3);
    expect(await loadCheckpointFromOpfs('run', { directory })).toEqual(v2);
  });

  it('names a missing checkpoint and a bad name', async () => {
    const directory = new FakeDirectory(true);
    await expect(loadCheckpointFromOpfs('none', { directory })).rejects.toThrow(/no checkpoint named "none"/);
    await expect(saveCheckpointToOpfs('a/b', v1, { directory })).rejects.toThrow(/not a plain file name/);
  });
});

describe('downloadCheckpoint', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('clicks a hidden anchor on an object URL of the bytes, then revokes the URL', async () => {
    vi.useFakeTimers();
    const bytes = encodeCheckpoint(sampleSnapshot('sgd'));
    const anchor = { href: '', download: '', rel: '', style: { display: '' }, click: vi.fn(), remove: vi.fn() };
    const appended: unknown[] = [];
    vi.stubGlobal('document', { createElement: (tag: string) => (expect(tag).toBe('a'), anchor), body: { appendChild: (a: unknown) => appended.push(a) } });
    let blob: Blob | undefined;
    const revoke = vi.fn();
    vi.stubGlobal('URL', { createObjectURL: (b: Blob) => ((blob = b), 'blob:fake'), revokeObjectURL: revoke });
    downloadCheckpoint(bytes, 'model.safetensors');
    expect(anchor).toMatchObject({ href: 'blob:fake', download: 'model.safetensors', style: { display: 'none' } });
    expect(appended).toEqual([anchor]);
    expect(anchor.click).toHaveBeenCalledOnce();
    expect(anchor.remove).toHaveBeenCalledOnce();
    expect(new Uint8Array(await (blob as Blob).arrayBuffer())).toEqual(bytes);
    expect(revoke).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30_000);
    expect(revoke).toHaveBeenCalledWith('blob:fake');
  });

  it('tells Node users to save a file instead', () => {
    expect(() => downloadCheckpoint(new Uint8Array(8))).toThrow(/use saveCheckpointFile/);
  });
});
