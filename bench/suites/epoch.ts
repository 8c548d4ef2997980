import type { SuiteContext } from '../context.js';
export async function runEpochSuite(ctx: SuiteContext): Promise<void> {
  ctx.skip('epoch', null, 'not written yet');
}
