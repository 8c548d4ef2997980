import type { SuiteContext } from '../context.js';
export async function runWorkersSuite(ctx: SuiteContext): Promise<void> {
  ctx.skip('workers', null, 'not written yet');
}
