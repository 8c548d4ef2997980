import type { SuiteContext } from '../context.js';
export async function runGemmSuite(ctx: SuiteContext): Promise<void> {
  ctx.skip('gemm', null, 'not written yet');
}
