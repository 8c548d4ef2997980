// Development-only: compiles assembly/nn.ts on its own (cached in build/) so tests, benchmarks and
// examples can run the model kernels before or without the WASM backend's build. Not imported by
// the library entry; needs the assemblyscript dev dependency.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WasmOps, standaloneWasmHost } from './ops-wasm.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const source = resolve(root, 'assembly/nn.ts');
const output = resolve(root, 'build/nn-standalone.wasm');

/** The standalone nn module's bytes, rebuilt when assembly/nn.ts is newer than the cache. */
export async function devNnWasmBytes(): Promise<Uint8Array> {
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return readFileSync(output);
  const asc = (await import('assemblyscript/asc')).default;
  let binary: Uint8Array | undefined;
  let errors = '';
  const result = await asc.main(
    [source, '--enable', 'simd', '--runtime', 'stub', '--importMemory', '-O3', '--noAssert', '--outFile', 'nn.wasm'],
    {
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
      stderr: { write: (s: string | Uint8Array) => ((errors += String(s)), true) } as never,
    },
  );
  if (result.error || !binary) throw new Error(`compiling assembly/nn.ts failed: ${result.error?.message ?? ''}\n${errors}`);
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, binary);
  return binary;
}

/** WasmOps over a private memory (the nn kernels only). */
export async function devWasmOps(): Promise<WasmOps> {
  return new WasmOps(await standaloneWasmHost((await devNnWasmBytes()) as Uint8Array<ArrayBuffer>));
}
