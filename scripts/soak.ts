/**
 * `npm run soak -- --seconds N [--json]`: runs mcp-gate as a child process under a realistic
 * check mix while its allowlist churns (a new generation every second, one corruption and
 * restore, SIGHUPs), verifies every answer against the allowlist that can have been in force,
 * and reports. Exit code 0 only when no answer was wrong, no check failed and the service
 * survived. With --json the last stdout line is the report as one JSON object.
 *
 * Options: --seconds N (default 20), --entry FILE (default dist/main.js, relative to the repo),
 * --in-flight N (default 16: busy, well below overload), --rate N (checks per second at most;
 * default 0, as fast as the in-flight bound allows), --deadline-ms N (default 5000),
 * --seed N (the request mix; default 1).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak, soakFailed } from './soak/run.js';
import type { SoakReport } from './soak/run.js';

const USAGE =
  'usage: soak [--seconds N] [--json] [--entry dist/main.js] [--in-flight 16] [--rate 0] [--deadline-ms 5000] [--seed 1]';

function integerFlag(name: string, raw: string, min: number): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function summary(report: SoakReport): string {
  const kb = (value: number | null): string =>
    value === null ? '?' : `${Math.round(value / 1024)} MiB`;
  const triggers = Object.entries(report.reloadsByTrigger)
    .map(([trigger, count]) => `${trigger} ${count}`)
    .join(', ');
  const lines = [
    `soak: ${report.seconds} s, ${report.inFlight} in flight${report.rate > 0 ? `, at most ${report.rate} checks/s` : ''}`,
    `  checks ${report.checks} (${report.checksPerSecond}/s), wrong ${report.wrong}, errors ${report.errors}`,
    `  in a reload window ${report.inTransition}, of which the reload could change the answer ${report.ambiguous}`,
    `  latency p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms, over 1 s ${report.overEnvoyTimeout}`,
    `  service RSS start ${kb(report.rssStartKb)}, warm ${kb(report.rssWarmKb)}, end ${kb(report.rssEndKb)}, max ${kb(report.rssMaxKb)}`,
    `  generations written ${report.generationsWritten}, reloaded ${report.generationsReloaded} (write to reload p50 ${report.reloadLagP50Ms} ms, max ${report.reloadLagMaxMs} ms)`,
    `  reloads ${report.reloads} (${triggers}), rejected ${report.rejectedReloads}`,
    `  corrupt files rejected ${report.corruptRejections}, corrupt-and-restore ${report.corruptRestores}, SIGHUPs ${report.sighups}`,
    `  service ${report.serviceDied ? 'DIED' : 'survived'}; exit ${JSON.stringify(report.serviceExit)}`,
  ];
  if (report.interrupted) lines.push('  INTERRUPTED before the time was up');
  for (const [name, s] of Object.entries(report.byScenario)) {
    lines.push(`    ${name}: ${s.checks} checks, ${s.wrong} wrong, ${s.errors} errors`);
  }
  for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  for (const load of report.foreignLoads) lines.push(`  LOADED A VERSION NEVER WRITTEN: ${load}`);
  for (const sample of report.samples) lines.push(`  ${sample}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seconds: { type: 'string', default: '20' },
        json: { type: 'boolean', default: false },
        entry: { type: 'string', default: 'dist/main.js' },
        'in-flight': { type: 'string', default: '16' },
        rate: { type: 'string', default: '0' },
        'deadline-ms': { type: 'string', default: '5000' },
        seed: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
  } catch (err: unknown) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  let options;
  try {
    options = {
      seconds: integerFlag('seconds', values.seconds, 5),
      entry: values.entry,
      repoRoot: path.resolve(import.meta.dirname, '..'),
      inFlight: integerFlag('in-flight', values['in-flight'], 1),
      rate: integerFlag('rate', values.rate, 0),
      deadlineMs: integerFlag('deadline-ms', values['deadline-ms'], 1),
      seed: integerFlag('seed', values.seed, 0),
    };
  } catch (err: unknown) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      // A second Ctrl-C: the 'exit' handler in run.ts still kills the child and removes files.
      process.exit(130);
    }
    process.stderr.write(`soak: ${signal}, stopping\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let report: SoakReport;
  try {
    report = await runSoak(options, abort.signal);
  } catch (err: unknown) {
    process.stderr.write(
      `soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
  process.stdout.write(`${summary(report)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  if (report.interrupted) return 130;
  return soakFailed(report) ? 1 : 0;
}

process.exit(await main());
