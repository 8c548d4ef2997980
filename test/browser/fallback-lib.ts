// What the browser page loads as 'ivon-edge' when dist/index.js has not been built yet: the
// WebGPU backend alone, bundled from gpu/ by the test.

export { createWebGpuBackend } from '../../gpu/webgpu-backend.js';
