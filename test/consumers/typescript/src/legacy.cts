// A CommonJS TypeScript module: require() resolves the package's index.d.cts.
import ivon = require('ivon-edge');

export async function backendName(): Promise<string> {
  const rt: ivon.Runtime = await ivon.createRuntime({ backend: 'js' });
  const name = rt.backend;
  await rt.dispose();
  return name;
}
