import type { SuiteContext } from '../context.js';
export async function runBandwidthSuite(ctx: SuiteContext): Promise<void> {
  ctx.skip('bandwidth', null, 'not written yet');
}
