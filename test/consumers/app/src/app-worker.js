// The app's own module worker: the library runs here as it would in an app that keeps training
// off the main thread.
import { runScenario } from './scenario.js';

self.onmessage = async (event) => {
  try {
    self.postMessage({ result: await runScenario(event.data) });
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
