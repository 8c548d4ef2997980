// Test plumbing for the browser checks: bundle TypeScript entries with rollup (types stripped by
// TypeScript's transpileModule, no type-check, no extra plugin), and serve a page plus modules
// from 127.0.0.1 with COOP/COEP headers so the page is crossOriginIsolated, like a real deployment.

import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { rollup } from 'rollup';
import { typescriptStrip } from '../../tools/browser-bundle.js';

/** One ES module bundling `entry` and everything it imports by relative path. */
export async function bundle(entry: string): Promise<string> {
  const build = await rollup({ input: entry, plugins: [typescriptStrip()], onwarn: () => {} });
  const { output } = await build.generate({ format: 'es', inlineDynamicImports: true });
  await build.close();
  return output[0].code;
}

const MIME: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
};

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `/` (the page), in-memory modules by path, and files under `/lib/` from `libDir`.
 * Every response carries the cross-origin isolation headers.
 */
export async function servePage(html: string, modules: Record<string, string>, libDir?: string): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    let body: string | Buffer | undefined;
    if (path === '/') body = html;
    else if (modules[path] !== undefined) body = modules[path];
    else if (libDir && path.startsWith('/lib/')) {
      const file = normalize(join(libDir, path.slice('/lib/'.length)));
      if (file.startsWith(libDir) && existsSync(file)) body = readFileSync(file);
    }
    if (body === undefined) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const type = path === '/' ? 'text/html' : (MIME[extname(path)] ?? 'application/octet-stream');
    res.writeHead(200, { ...headers, 'Content-Type': type }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
