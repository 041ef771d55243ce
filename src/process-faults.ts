/**
 * What happens to errors nothing else caught: an unhandled promise rejection or an uncaught
 * exception. cli/run-as-process.ts installs the process handlers; `serve` points the report at
 * the service logger and metrics once they exist. Until then a report is one JSON line on
 * stderr, in the same shape as the logger's lines, so log pipelines see it either way.
 */

export type FaultKind = 'unhandled_rejection' | 'uncaught_exception';

export type FaultReporter = (kind: FaultKind, error: unknown) => void;

let reporter: FaultReporter = writeStderrLine;

/**
 * Routes fault reports to `next` until the returned function is called. A reporter that throws
 * falls back to the stderr line, so a fault in the logger cannot hide the original fault.
 */
export function setFaultReporter(next: FaultReporter): () => void {
  reporter = next;
  return () => {
    if (reporter === next) reporter = writeStderrLine;
  };
}

/** Reports one fault through the current reporter. Never throws. */
export function reportFault(kind: FaultKind, error: unknown): void {
  try {
    reporter(kind, error);
  } catch {
    writeStderrLine(kind, error);
  }
}

/** Messages for each kind, shared by every reporter so operators can alert on the text. */
export const FAULT_MESSAGES: Readonly<Record<FaultKind, string>> = {
  unhandled_rejection: 'unhandled promise rejection; the service keeps running',
  uncaught_exception: 'uncaught exception; exiting with code 70 so the service is restarted',
};

/** Plain fields describing `error`, safe to serialise whatever was thrown. */
export function describeError(error: unknown): Record<string, string> {
  if (error instanceof Error) {
    return { type: error.name, message: error.message, stack: error.stack ?? '' };
  }
  return { type: typeof error, message: String(error) };
}

function writeStderrLine(kind: FaultKind, error: unknown): void {
  const line = {
    level: kind === 'uncaught_exception' ? 'fatal' : 'error',
    time: new Date().toISOString(),
    name: 'mcp-gate',
    fault: kind,
    err: describeError(error),
    msg: FAULT_MESSAGES[kind],
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
