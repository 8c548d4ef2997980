// One rollup recipe for putting our TypeScript on a browser page without a build step: `./x.js`
// imports resolve to the `.ts` sources (types stripped by TypeScript's transpileModule, no
// type-check), packages resolve with their browser fields, and what only Node or Deno reaches
// (node: modules, the Dawn package) stays external. The bench page (bench/web/build.ts) and the
// browser tests bundle through it, so a page in a test is built the way the shipped page is.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { rollup, type Plugin } from 'rollup';
import ts from 'typescript';

/** Rollup plugin: `./x.js` imports resolve to `./x.ts` files, whose types are stripped. */
export function typescriptStrip(): Plugin {
  return {
    name: 'typescript-strip',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const candidate = resolve(dirname(importer), source.replace(/\.js$/, '.ts'));
      return existsSync(candidate) ? candidate : null;
    },
    transform(code, id) {
      if (!id.endsWith('.ts')) return null;
      const out = ts.transpileModule(code, {
        fileName: id,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: false },
      });
      return { code: out.outputText, map: null };
    },
  };
}

/** Imports only Node or Deno reaches (Dawn, worker_threads, files): left external. */
export const isNodeOnly = (id: string): boolean => id.startsWith('node:') || id === 'webgpu';

/**
 * `entry` and everything it imports as one file (dynamic imports inlined): an ES module, or a
 * classic script ('iife') as a bundler's non-module output. `imports` lists the static imports the
 * bundle kept (only Node-only ones can remain).
 */
export async function bundleForBrowser(entry: string, format: 'es' | 'iife' = 'es'): Promise<{ code: string; imports: string[] }> {
  const build = await rollup({ input: entry, plugins: [typescriptStrip(), nodeResolve({ browser: true })], external: isNodeOnly, onwarn: () => {} });
  const { output } = await build.generate({ format, inlineDynamicImports: true });
  await build.close();
  return { code: output[0].code, imports: output[0].imports };
}
