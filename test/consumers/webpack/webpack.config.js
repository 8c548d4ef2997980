// webpack 5 defaults for a browser app: no loaders, no fallbacks for Node built-ins, nothing
// library-specific. webpack emits the library's kernel worker as its own chunk.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  target: 'web',
  context: fileURLToPath(new URL('.', import.meta.url)),
  entry: './src/main.js',
  output: { path: fileURLToPath(new URL('./dist', import.meta.url)), filename: 'main.js', clean: true },
  devtool: 'source-map',
};
