// The app the host tests load: the browser-pool training program on a runtime created as an app
// would create it, createRuntime() with no options, plus what the page could see of its host.
import { trainProgram, type ProgramResult } from '../browser-pool/program.js';

export interface HostOutcome extends ProgramResult {
  protocol: string;
  crossOriginIsolated: boolean;
  hasSharedArrayBuffer: boolean;
}

(globalThis as { runApp?: () => Promise<HostOutcome> }).runApp = async () => ({
  ...(await trainProgram({})),
  protocol: location.protocol,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  hasSharedArrayBuffer: typeof SharedArrayBuffer === 'function',
});
