// Bundles the library for npm and for the browser tests: ESM with code-split chunks for the
// backends loaded on demand, the WASM embedded (base64, so no asset handling), comlink bundled,
// Node-only modules (node:*, the Dawn `webgpu` package) left as imports that only Node paths reach,
// and `mqtt` (the federated transport's optional dependency, imported on first use) left to the app.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';

export default {
  input: {
    index: 'src/index.ts',
    // Federated rounds over MQTT: a subpath entry (ivon-edge/federated), so apps that never federate
    // never meet its `import('mqtt')`.
    federated: 'src/federated/index.ts',
    // Worker entries the pool's adapters load from next to themselves (dist/chunks/).
    'chunks/kernel-worker': 'workers/kernel-worker.js',
    'chunks/kernel-worker-node': 'workers/kernel-worker-node.js',
  },
  output: {
    dir: 'dist',
    format: 'es',
    sourcemap: true,
    chunkFileNames: 'chunks/[name]-[hash].js',
  },
  external: (id) => id.startsWith('node:') || id === 'webgpu' || id === 'mqtt' || id === 'tsx' || id.startsWith('tsx/'),
  plugins: [
    nodeResolve({ browser: false, preferBuiltins: true }),
    typescript({
      tsconfig: './tsconfig.build.json',
    }),
  ],
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
};
