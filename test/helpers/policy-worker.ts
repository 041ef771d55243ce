/**
 * The policy worker started from the TypeScript sources, for tests and the benchmarks. Node 20
 * neither loads `.ts` nor applies `--import` hooks in a worker thread, so the thread boots
 * src/config/policy-worker.ts through tsx's API. The service itself starts the compiled
 * policy-worker.js and never loads tsx (src/config/policy-loader.ts).
 */
import { Worker } from 'node:worker_threads';
import type { StartPolicyWorker } from '../../src/config/policy-loader.js';

const SOURCE = new URL('../../src/config/policy-worker.ts', import.meta.url);

/**
 * Script text that runs the worker from its source; it works as a module file and as `eval`
 * code alike, so a test's stand-in worker can end in it.
 */
export const BOOT_POLICY_WORKER_SOURCE = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(SOURCE.href)}, ${JSON.stringify(SOURCE.href)}));`;

/** Starts the policy worker from its TypeScript source, with the loader's options. */
export const startPolicyWorkerFromSources: StartPolicyWorker = (options) =>
  new Worker(BOOT_POLICY_WORKER_SOURCE, { ...options, eval: true });
