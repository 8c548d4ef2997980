// Builds the npm package (dist/, flat, so every module finds ./kernel-worker.js beside it):
//   index.js            the ESM library for browsers and everything else; backends are chunks
//                       loaded on demand, the WASM is embedded (base64), comlink is bundled; only
//                       relative imports, so it also loads unbundled (a CDN, a file:// page)
//   node.js             Node and Deno ("node"/"deno" export conditions): index.js with the Node
//                       platform (worker_threads, Dawn, checkpoint files) installed; nothing
//                       reachable from index.js imports that code
//   kernel-worker.js    the Web Worker entry, self-contained (no imports), so it works whether a
//                       bundler chunks it (Vite, webpack, Rollup) or it is copied as is (esbuild)
//   kernel-worker-node.js  the worker_threads entry, self-contained
//   index.cjs           require('ivon-edge'): the library with the Node platform, one file
//   index.d.ts/.d.cts   the public types only, bundled (rollup-plugin-dts)
import { copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

// Chunk names carry content hashes: start from an empty dist/ so no stale chunk gets packed.
rmSync('dist', { recursive: true, force: true });

const nodePlatform = fileURLToPath(new URL('./src/platform/node.ts', import.meta.url));
const installedPlatform = fileURLToPath(new URL('./src/platform/installed.ts', import.meta.url));
const nodeEntry = fileURLToPath(new URL('./src/node.ts', import.meta.url));
const isNodeOnly = (id) => id.startsWith('node:') || id === 'webgpu';

function quietCircular(warning, warn) {
  if (warning.code === 'CIRCULAR_DEPENDENCY') return;
  warn(warning);
}

/**
 * In dist/, the library reaches the platform through src/platform/installed.ts (the browser one
 * until src/node.ts installs Node's): every import of src/platform/node.ts but the Node entry's is
 * redirected there.
 */
function installablePlatform() {
  return {
    name: 'installable-platform',
    async resolveId(source, importer, options) {
      if (!importer || importer === nodeEntry) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === nodePlatform ? installedPlatform : null;
    },
  };
}

const typescriptBuild = () => typescript({ tsconfig: './tsconfig.build.json', outDir: 'dist', sourceMap: true, inlineSources: true });

/**
 * Source map paths relative to the package (../src/…, ../gpu/…, ../workers/…, ../node_modules/…);
 * the maps also carry every source's text (sourcesContent), since the package ships no sources.
 */
function packageRelative(relativeSourcePath) {
  const match = /(?:^|\/)((?:src|gpu|workers|node_modules)\/.*)$/.exec(relativeSourcePath.replaceAll('\\', '/'));
  return match ? `../${match[1]}` : relativeSourcePath;
}

/**
 * The public types name a few interfaces that exist only with lib "DOM" (TypeScript 6 puts WebGPU
 * there too; WebAssembly.Module is there, not in @types/node) or @webgpu/types (TypeScript 5). Referencing @webgpu/types would clash with
 * TypeScript 6's DOM lib; declaring them as empty interfaces merges with the real ones wherever
 * they exist and keeps a consumer without them compiling with skipLibCheck off. Every name must be
 * an interface in both (not a type alias): the consumer tests type-check all of these setups.
 */
const AMBIENT_INTERFACES = ['GPU', 'GPUAdapter', 'GPUBuffer', 'GPUBufferBinding', 'GPUCommandEncoder', 'GPUDevice', 'GPUDeviceLostInfo', 'Blob'];
const AMBIENT_DECLARATIONS = [
  '// Merged with lib "DOM" / @webgpu/types where present (rollup.config.mjs says why).',
  'declare global {',
  ...AMBIENT_INTERFACES.map((name) => `  interface ${name} {}`),
  '  namespace WebAssembly {',
  '    interface Module {}',
  '  }',
  '}',
  '',
].join('\n');

const selfContainedWorker = (name, input) => ({
  input,
  output: { file: `dist/${name}.js`, format: 'es', sourcemap: true, sourcemapPathTransform: packageRelative },
  external: isNodeOnly,
  plugins: [nodeResolve({ browser: name === 'kernel-worker', preferBuiltins: true })],
});

export default [
  {
    input: { index: 'src/index.ts', node: 'src/node.ts' },
    output: {
      dir: 'dist',
      format: 'es',
      sourcemap: true,
      sourcemapPathTransform: packageRelative,
      // Should the Node platform ever need a chunk of its own (only node.js imports it), its name says so.
      chunkFileNames: (chunk) => (chunk.moduleIds.includes(nodePlatform) ? 'platform-node-[hash].js' : '[name]-[hash].js'),
    },
    external: isNodeOnly,
    plugins: [installablePlatform(), nodeResolve({ browser: false, preferBuiltins: true }), typescriptBuild()],
    onwarn: quietCircular,
  },
  selfContainedWorker('kernel-worker', 'workers/kernel-worker.js'),
  selfContainedWorker('kernel-worker-node', 'workers/kernel-worker-node.js'),
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.cjs', format: 'cjs', sourcemap: true, sourcemapPathTransform: packageRelative, inlineDynamicImports: true, exports: 'named' },
    external: isNodeOnly,
    plugins: [nodeResolve({ browser: false, preferBuiltins: true }), typescriptBuild()],
    onwarn: quietCircular,
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.d.ts', format: 'es' },
    plugins: [
      dts({ tsconfig: './tsconfig.build.json' }),
      { name: 'ambient-types', renderChunk: (code) => `${code}\n${AMBIENT_DECLARATIONS}` },
      { name: 'cjs-types', writeBundle: () => copyFileSync('dist/index.d.ts', 'dist/index.d.cts') },
    ],
  },
];
