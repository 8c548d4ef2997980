// Bundles the browser pool page and the kernel worker (tools/browser-bundle.ts; comlink resolved
// from node_modules) and serves them from 127.0.0.1, with or
// without the COOP/COEP headers that make a page crossOriginIsolated.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bundleForBrowser } from '../../tools/browser-bundle.js';

/** One ES module with everything `entry` imports (dynamic imports inlined). */
export async function bundleModule(entry: string): Promise<string> {
  return (await bundleForBrowser(entry)).code;
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves `/` (a page loading /page.js) and the given modules; isolated: with COOP/COEP. */
export async function serve(modules: Record<string, string>, isolated: boolean): Promise<Served> {
  const html = '<!doctype html><meta charset="utf-8"><title>pool</title><script type="module" src="/page.js"></script>';
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers: Record<string, string> = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {};
    const body = path === '/' ? html : modules[path];
    if (body === undefined) res.writeHead(404, headers).end('not found');
    else res.writeHead(200, { ...headers, 'Content-Type': path === '/' ? 'text/html' : 'text/javascript' }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
