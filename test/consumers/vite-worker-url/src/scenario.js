// The workload with the kernel worker given explicitly: its URL from Vite's `?url` import of the
// package's exported worker entry (copied as an asset, which works because it is self-contained),
// as an app does that serves workers from a CDN or under a strict CSP.
import { createRuntime, IVON } from 'ivon-edge';
import kernelWorkerUrl from 'ivon-edge/kernel-worker?url';
import { ivonRun } from './ivon-run.js';

/** @param {{ workers: number | 'auto' }} options */
export const runScenario = (options) => ivonRun({ createRuntime, IVON }, { ...options, workerUrl: kernelWorkerUrl });
