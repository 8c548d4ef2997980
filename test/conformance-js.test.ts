// The conformance suite on the plain-TypeScript backend.
import { createRuntime } from '../src/index.js';
import { defineConformanceSuite } from './conformance/suite.js';

defineConformanceSuite('js', () => createRuntime({ backend: 'js' }));
