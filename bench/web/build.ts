// Builds the browser bench page: index.html, bench.js (the page and the harness in one ES module)
// and kernel-worker.js (the worker pool's module worker, next to it), in memory for the server
// or written to a folder for static hosting. Bundled by tools/browser-bundle.ts (types stripped,
// no type-check); a Node import left in the page bundle fails the build, so a suite that grows one
// is caught here rather than on a phone.

import { fileURLToPath } from 'node:url';
import { bundleForBrowser, isNodeOnly } from '../../tools/browser-bundle.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** One ES module with everything `entry` imports; throws if it keeps a static import of a Node module. */
export async function bundlePage(entry: string): Promise<string> {
  const { code, imports } = await bundleForBrowser(entry);
  const nodeImports = imports.filter(isNodeOnly);
  if (nodeImports.length > 0) {
    throw new Error(`${entry}: the browser bundle statically imports ${nodeImports.join(', ')}; keep Node-only code behind the bench host (bench/host-node.ts) or a dynamic import`);
  }
  return code;
}

const HTML = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ivon-edge bench</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem; max-width: 90rem; }
  pre { font: 12px ui-monospace, monospace; background: #f6f6f6; padding: .5rem; overflow-x: auto; }
  form div { margin: .25rem 0; } label { margin-right: .6rem; white-space: nowrap; }
  button { font-size: 1rem; margin: .5rem .5rem .5rem 0; }
  #environment { color: #555; }
</style>
<h1>ivon-edge bench</h1>
<p id="environment"></p>
<form id="form" onsubmit="return false"></form>
<button id="run" type="button">Run</button><button id="download" type="button" disabled>Download JSON</button>
<p id="status">idle</p>
<h2>Ratios (measured in this run)</h2>
<div id="plot"></div>
<pre id="ratios"></pre>
<h2>Tables</h2>
<pre id="log"></pre>
<p>Timings in a browser on a busy device are noisy: compare ratios from one run. The JSON is the
same as <code>npm run bench -- --out FILE</code> writes.</p>
<script type="module" src="./bench.js"></script>
</html>
`;

/** The page's files by name. */
export async function buildBenchPage(): Promise<Record<string, string>> {
  return {
    'index.html': HTML,
    'bench.js': await bundlePage(here('./page.ts')),
    'kernel-worker.js': await bundlePage(here('../../workers/kernel-worker.js')),
  };
}
