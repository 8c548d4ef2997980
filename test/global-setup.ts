// Builds the WASM module before any test file runs (a no-op when it is up to date), so a single
// test file can be run on its own with `npx vitest run test/<file>`.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'inherit' });
}
