// The conformance suite on the WebAssembly SIMD backend (one thread).
import { createRuntime } from '../src/index.js';
import { defineConformanceSuite } from './conformance/suite.js';

defineConformanceSuite('wasm', () => createRuntime({ backend: 'wasm' }));
