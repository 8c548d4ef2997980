// esbuild does not turn `new Worker(new URL('./x.js', import.meta.url))` into a worker chunk: as
// for any module worker, each worker is an entry point of its own, written beside the page's
// bundle where the URL points. The library's kernel worker is self-contained (no imports), so
// `ivon-edge/kernel-worker` bundles to one file with no sibling chunks.
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default {
  absWorkingDir: here('.'),
  entryPoints: {
    main: './src/main.js',
    'app-worker': './src/app-worker.js',
    'kernel-worker': 'ivon-edge/kernel-worker',
  },
  outdir: here('./dist'),
  bundle: true,
  format: 'esm',
  splitting: true,
  platform: 'browser',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
};
