/**
 * Runs the differential property: what CI runs with a fixed seed and a bounded count, and what
 * `npm run fuzz` runs for minutes. A counterexample is printed as a catalogue row (catalogue.ts)
 * ready to paste, with the readers that ran what mcp-gate let through.
 */
import fc from 'fast-check';
import { generatedRequest } from './generate.js';
import type { GeneratedRequest } from './generate.js';
import { judge } from './judge.js';
import type { Finding, Readers } from './judge.js';
import { startGoReader, startPythonReader } from './readers/reference-readers.js';
import type { ReferenceReader } from './readers/reference-readers.js';
import { startSdkServers } from './sdk-servers.js';
import { APPROVED_HOST, TOOLS } from './generate.js';
import { catalogueSnapshot } from './judge.js';

export interface DifferentialTotals {
  /** Requests generated and judged. */
  requests: number;
  /** Reader consultations (one reader, one request). */
  consulted: number;
  /** Tools the readers ran in all. */
  toolRuns: number;
  /** Requests mcp-gate denied. */
  denied: number;
}

export interface DifferentialRun {
  readonly totals: DifferentialTotals;
  readonly interrupted: boolean;
  /** The shrunk counterexample as a catalogue row, when the property failed. */
  readonly counterexample: string | undefined;
}

export interface StartedReaders extends Readers {
  /** Readers that could not start, with why: the suite says so loudly. */
  readonly missing: readonly string[];
  close(): Promise<void>;
}

/**
 * The SDK servers register `get_été` on every request on purpose (a name that reads differently
 * in latin1 and UTF-8), and the SDK warns about its name on the console each time, in five
 * lines. Those lines, and only those, are dropped while the readers run.
 */
function quietToolNameWarnings(): () => void {
  const warn = console.warn;
  // The five lines come from one synchronous call, so nothing else can interleave with them.
  let inWarning = false;
  console.warn = (...args: unknown[]): void => {
    const first = typeof args[0] === 'string' ? args[0] : '';
    if (first.startsWith('Tool name validation warning for ')) inWarning = true;
    if (inWarning) {
      if (first.startsWith('See SEP: Specify Format for Tool Names')) inWarning = false;
      return;
    }
    warn(...args);
  };
  return () => {
    console.warn = warn;
  };
}

/** Starts every reader the suite consults. */
export async function startReaders(): Promise<StartedReaders> {
  const restoreWarn = quietToolNameWarnings();
  const servers = await startSdkServers({ tools: TOOLS });
  const bodyReaders: ReferenceReader[] = [];
  const missing: string[] = [];
  for (const start of [startGoReader, startPythonReader]) {
    const started = await start();
    if (started.ok) bodyReaders.push(started.reader);
    else missing.push(started.why);
  }
  return {
    servers,
    bodyReaders,
    missing,
    snapshot: catalogueSnapshot(),
    async close() {
      await Promise.all([servers.close(), ...bodyReaders.map((r) => r.close())]);
      restoreWarn();
    },
  };
}

export async function runDifferential(
  readers: Readers,
  options: { readonly seed: number; readonly numRuns: number; readonly timeLimitMs?: number },
): Promise<DifferentialRun> {
  const totals: DifferentialTotals = { requests: 0, consulted: 0, toolRuns: 0, denied: 0 };
  let lastFindings: readonly Finding[] = [];
  const property = fc.asyncProperty(generatedRequest, async (request) => {
    const judged = await judge(readers, request);
    totals.requests++;
    totals.consulted += judged.consulted;
    totals.toolRuns += judged.runs;
    if (judged.decision.verdict === 'deny') totals.denied++;
    if (judged.findings.length > 0) {
      lastFindings = judged.findings;
      throw new Error(judged.findings.map((f) => `${f.reader} ran ${f.tool}: ${f.why}`).join('\n'));
    }
  });
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.numRuns,
    ...(options.timeLimitMs === undefined
      ? {}
      : { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }),
  });
  const found = details.failed ? details.counterexample?.[0] : undefined;
  return {
    totals,
    interrupted: details.interrupted,
    counterexample:
      found === undefined ? undefined : catalogueRow(found, lastFindings, details.seed),
  };
}

/** A counterexample as a row of test/adversarial/catalogue.ts (renumber its id). */
export function catalogueRow(
  request: GeneratedRequest,
  findings: readonly Finding[],
  seed: number,
): string {
  const shadow = request.authority !== APPROVED_HOST;
  const threat = findings.map((f) => `${f.reader} ran ${f.tool}`).join(', ');
  return [
    `  // Found by the differential suite, seed ${seed}: ${findings.map((f) => f.why).join('; ')}`,
    '  {',
    `    id: 'ADV-${ID_PREFIX[request.family]}-99',`,
    `    family: '${request.family}',`,
    `    title: ${JSON.stringify(request.label.slice(0, 200))},`,
    `    threat: ${JSON.stringify(`${threat} while mcp-gate allowed it`)},`,
    '    request: () =>',
    '      check({',
    `        authority: ${JSON.stringify(request.authority)},`,
    `        path: ${JSON.stringify(request.path)},`,
    `        headers: ${JSON.stringify(request.headers)},`,
    `        body: Buffer.from('${Buffer.from(request.body).toString('hex')}', 'hex'),`,
    '      }),',
    shadow
      ? "    expect: { verdict: 'deny', reason: 'unapproved' },"
      : "    expect: { verdict: 'deny', reason: 'uninspectable', detail: 'undecodable', entry: 'github-official' }, // the deny the fix gives",
    '  },',
  ].join('\n');
}

/** The id prefix of each catalogue family a counterexample can fall in. */
const ID_PREFIX: Readonly<Record<GeneratedRequest['family'], string>> = {
  compression: 'ZIP',
  charset: 'CHAR',
  path: 'PATH',
  batch: 'BATCH',
  'duplicate-keys': 'DUP',
};
