/**
 * `mcp-gate` from the TypeScript sources, for tests that run it as a process without a build:
 * `node --import tsx test/helpers/main-from-sources.ts serve …`. It is src/main.ts but for the
 * allowlist reload thread, which boots through tsx (policy-worker.ts here); under `--workers`
 * the cluster workers run this entry too.
 */
import { runAsProcess } from '../../src/cli/run-as-process.js';
import { startPolicyWorkerFromSources } from './policy-worker.js';

await runAsProcess((code) => process.exit(code), {
  startPolicyWorker: startPolicyWorkerFromSources,
});
