// `npm run bench:web`: serves the browser bench page with COOP/COEP on 127.0.0.1 (or --host), or
// with --build DIR writes it as static files (bench/web/serve.ts does both).

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serveBenchPage, writeBenchPage } from './serve.js';

const USAGE = `usage: npm run bench:web -- [--port N] [--host ADDRESS] [--no-isolation] | --build DIR
  (serve)        http://127.0.0.1:8787/ with COOP/COEP; add ?run to start at once, e.g. ?run&suite=optimizer,workers&sizes=1M
  --host 0.0.0.0 listen on every interface (a phone on the LAN: see bench/README.md on secure contexts)
  --no-isolation serve without COOP/COEP (what a host without those headers gives: no workers)
  --build DIR    write index.html, bench.js, kernel-worker.js (and _headers for Netlify/Cloudflare Pages) to DIR`;

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string', default: '8787' }, host: { type: 'string', default: '127.0.0.1' }, 'no-isolation': { type: 'boolean', default: false }, build: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) return void console.log(USAGE);
  if (values.build !== undefined) {
    const dir = resolve(values.build);
    const names = await writeBenchPage(dir);
    console.log(`wrote ${names.join(', ')} to ${dir}\nHost it with COOP/COEP headers (the _headers file does it on Netlify and Cloudflare Pages) over HTTPS for workers and WebGPU; without them the page runs without workers and says so.`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected an integer in 0..65535, got '${values.port}'\n${USAGE}`);
  const server = await serveBenchPage({ port, host: values.host, isolated: !values['no-isolation'] });
  console.log(`ivon-edge bench page: ${server.url}  (${values['no-isolation'] ? 'no COOP/COEP' : 'cross-origin isolated'}; Ctrl-C to stop)\nstart a run from the page, or open ${server.url}?run`);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
});
