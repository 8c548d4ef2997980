// Rollup, like esbuild, leaves `new Worker(new URL('./x.js', import.meta.url))` alone: each worker
// is an input of its own, written beside the bundle where the URL points. The options take the
// node-resolve plugin as an argument so this file imports nothing but Node built-ins.
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** @param {{ nodeResolve: (options: object) => import('rollup').Plugin }} plugins */
export default ({ nodeResolve }) => ({
  input: {
    main: here('./src/main.js'),
    'app-worker': here('./src/app-worker.js'),
    'kernel-worker': 'ivon-edge/kernel-worker',
  },
  plugins: [nodeResolve({ browser: true, rootDir: here('.') })],
  output: { dir: here('./dist'), format: 'es', entryFileNames: '[name].js', sourcemap: true },
});
