#!/usr/bin/env node
/**
 * Process entry: runs the CLI and exits with its code. The only file that may call process.exit.
 * Unhandled rejections and exceptions are logged to stderr and end the process with code 70:
 * a silent half-dead authorizer would be worse than a restart.
 */
import { runCli } from './cli.js';

process.on('unhandledRejection', (reason: unknown) => {
  process.stderr.write(`mcp-gate: unhandled rejection: ${String(reason)}\n`);
  process.exit(70);
});
process.on('uncaughtException', (err: unknown) => {
  process.stderr.write(
    `mcp-gate: uncaught exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
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
