// Deno run of test/federated-roundtrip.ts over the MQTT broker whose URL is the first argument
// (mqtt:// over TCP or ws:// over WebSockets), through the `mqtt` package from node_modules.
// Prints JSON with the final global message's bytes (hex).
import { quadraticRoundTrip } from '../federated-roundtrip.js';

declare const Deno: { args: string[]; exit(code: number): never };

const [url, session] = Deno.args;
try {
  const bytes = await quadraticRoundTrip(url, session);
  console.log(JSON.stringify({ ok: true, hex: Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') }));
  Deno.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String((e as Error)?.stack ?? e) }));
  Deno.exit(1);
}
