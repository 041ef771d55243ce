/**
 * `mcp-gate` as the process it runs in: the handlers for faults nothing else caught, the command
 * from argv, and its exit code handed to `exit`. src/main.ts passes process.exit, being the only
 * file that may call it; an entry that runs the TypeScript sources for tests passes it too, with
 * its own policy worker start (CliIo).
 *
 * Faults nothing else caught are always logged (process-faults.ts). An unhandled rejection is
 * logged and counted and the service keeps deciding: every Check path catches its own errors, so
 * a stray rejection (a watcher, a timer) cannot have left a decision half-made. An uncaught
 * exception leaves the process in an unknown state, so it is logged and the process exits with
 * code 70 for the orchestrator to restart it; Envoy fails closed meanwhile.
 */
import { runCli } from '../cli.js';
import { reportFault } from '../process-faults.js';
import type { CliIo } from './io.js';

/** Runs the command line of this process and exits with its code. */
export async function runAsProcess(
  exit: (code: number) => never,
  extra: Pick<CliIo, 'startPolicyWorker'> = {},
): Promise<never> {
  process.on('unhandledRejection', (reason: unknown) => {
    reportFault('unhandled_rejection', reason);
  });
  process.on('uncaughtException', (err: unknown) => {
    reportFault('uncaught_exception', err);
    exit(70);
  });
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    now: new Date(),
    env: process.env,
    ...extra,
  });
  // `serve` resolves only after shutdown; other commands finish here. Exit explicitly so open
  // handles (none expected) cannot keep a finished command alive.
  return exit(code);
}
