// The consumer page: runs the scenario on the main thread, then inside a module Web Worker of the
// app (the library then starts its kernel workers from that worker), and publishes both results
// on window.__consumer for the test.
import { runScenario } from './scenario.js';

const WORKERS = 2;

function inAppWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./app-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event) => {
      worker.terminate();
      if (event.data.error) reject(new Error(`app worker: ${event.data.error}`));
      else resolve(event.data.result);
    };
    worker.onerror = (event) => reject(new Error(`app worker failed to load: ${event.message}`));
    worker.postMessage({ workers: WORKERS });
  });
}

async function main() {
  const mainThread = await runScenario({ workers: WORKERS });
  const worker = await inAppWorker();
  return { crossOriginIsolated: globalThis.crossOriginIsolated === true, mainThread, worker };
}

main().then(
  (result) => (window.__consumer = { result }),
  (error) => (window.__consumer = { error: String(error?.stack ?? error) }),
);
