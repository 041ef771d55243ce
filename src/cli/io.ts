// The shape of config/policy-loader.ts's StartPolicyWorker, restated so that commands which never
// start the service (the inventory scanner, run from dist/ with Node alone) import nothing of it.
import type { Worker, WorkerOptions } from 'node:worker_threads';

/** What a CLI command may touch, injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The clock commands use unless `--now` is given. */
  readonly now: Date;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * How `serve` starts its allowlist reload thread. Unset for the installed command (the
   * compiled worker, src/config/policy-loader.ts); an entry that runs the TypeScript sources sets
   * test/helpers/policy-worker.ts's.
   */
  readonly startPolicyWorker?: ((options: WorkerOptions) => Worker) | undefined;
}
