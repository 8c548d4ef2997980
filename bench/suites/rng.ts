import type { SuiteContext } from '../context.js';
export async function runRngSuite(ctx: SuiteContext): Promise<void> {
  ctx.skip('rng', null, 'not written yet');
}
