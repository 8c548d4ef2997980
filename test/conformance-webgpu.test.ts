// The conformance suite on the WebGPU backend (Dawn in Node; SwiftShader in CI). There is no
// skip: without an adapter createRuntime throws and every test fails, as CI requires.
import { createRuntime } from '../src/index.js';
import { defineConformanceSuite } from './conformance/suite.js';

defineConformanceSuite('webgpu', () => createRuntime({ backend: 'webgpu' }));
