// Serves the browser bench page (bench/web/build.ts) from node:http with the COOP/COEP headers
// that make it cross-origin isolated (SharedArrayBuffer, so the workers suite runs), or writes it
// as static files to host anywhere. `npm run bench:web` (bench/web/cli.ts) and the headless test use it.

import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { buildBenchPage } from './build.js';

const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8' };

/** Static hosts that read a _headers file (Netlify, Cloudflare Pages) serve the page isolated. */
const HEADERS_FILE = `/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n`;

export interface BenchServer {
  url: string;
  close(): Promise<void>;
}

export async function serveBenchPage(options: { port?: number; host?: string; isolated?: boolean } = {}): Promise<BenchServer> {
  const files = await buildBenchPage();
  const headers = options.isolated === false ? {} : ISOLATION_HEADERS;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    const body = files[name];
    if (body === undefined) res.writeHead(404, headers).end('not found');
    else res.writeHead(200, { ...headers, 'Content-Type': TYPES[name.split('.').pop()!] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(body);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => server.once('error', fail).listen(options.port ?? 0, host, done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/`, close: () => new Promise((done) => server.close(() => done())) };
}

export async function writeBenchPage(dir: string): Promise<string[]> {
  const files = { ...(await buildBenchPage()), _headers: HEADERS_FILE };
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return Object.keys(files);
}

