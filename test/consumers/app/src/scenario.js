// The workload (ivon-run.js) on the ivon-edge this app imports, as a bundled app would use it.
import { createRuntime, IVON } from 'ivon-edge';
import { ivonRun } from './ivon-run.js';

/** @param {{ workers: number | 'auto' }} options */
export const runScenario = (options) => ivonRun({ createRuntime, IVON }, options);
