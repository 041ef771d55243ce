import type { StartPolicyWorker } from '../config/policy-loader.js';

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
  readonly startPolicyWorker?: StartPolicyWorker | undefined;
}
