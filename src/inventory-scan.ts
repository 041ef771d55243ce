#!/usr/bin/env node
/**
 * Entry for `inventory scan` alone: `node dist/inventory-scan.js [options]` does what
 * `mcp-gate inventory scan [options]` does, from a module graph of Node built-ins and our own
 * files only (test/unit/inventory/scan-graph.test.ts). An MDM tool can ship the files it needs
 * (docs/inventory.md lists how to collect them) and run them with Node, no npm install on the
 * endpoint. Sets the exit code rather than exiting, so the report on stdout is always flushed.
 */
import { runInventoryScan } from './cli/inventory-scan.js';

process.exitCode = await runInventoryScan(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: new Date(),
  env: process.env,
});
