#!/usr/bin/env node
/**
 * Process entry: runs the command line as this process (cli/run-as-process.ts) and exits with
 * its code. The only file that may call process.exit.
 */
import { runAsProcess } from './cli/run-as-process.js';

await runAsProcess((code) => process.exit(code));
