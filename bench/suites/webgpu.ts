import type { SuiteContext } from '../context.js';
export async function runWebGpuSuite(ctx: SuiteContext): Promise<void> {
  ctx.skip('webgpu', null, 'not written yet');
}
