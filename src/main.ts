#!/usr/bin/env node
/**
 * Process entry: runs the CLI and exits with its code. The only file that may call process.exit.
 *
 * Faults nothing else caught are always logged (process-faults.ts). An unhandled rejection is
 * logged and counted and the service keeps deciding: every Check path catches its own errors, so
 * a stray rejection (a watcher, a timer) cannot have left a decision half-made. An uncaught
 * exception leaves the process in an unknown state, so it is logged and the process exits with
 * code 70 for the orchestrator to restart it; Envoy fails closed meanwhile.
 */
import { runCli } from './cli.js';
import { reportFault } from './process-faults.js';

process.on('unhandledRejection', (reason: unknown) => {
  reportFault('unhandled_rejection', reason);
});
process.on('uncaughtException', (err: unknown) => {
  reportFault('uncaught_exception', err);
  process.exit(70);
});

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: new Date(),
  env: process.env,
});
// `serve` resolves only after shutdown; other commands finish here. Exit explicitly so open
// handles (none expected) cannot keep a finished command alive.
process.exit(code);
