/**
 * How a problem in a configuration file is told: an Issue at a 1-based line and column, the
 * document path it concerns and that path as messages show it, the stable order issues are
 * reported in, and the `FILE:LINE:COL message` line. Shared by every policy file's loader.
 * Pure: no I/O.
 */

/** One problem or warning, at a 1-based line and column of the file. */
export interface Issue {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** A path into the document, as zod reports it: mapping keys and sequence indexes. */
export type DocPath = readonly (string | number)[];

/** `approved[0].tools.allow[1]`, the path as shown in messages. */
export function pathLabel(path: DocPath): string {
  let label = '';
  for (const step of path) {
    label += typeof step === 'number' ? `[${String(step)}]` : label === '' ? step : `.${step}`;
  }
  return label;
}

/**
 * `FILE:LINE:COL message`, the format of `mcp-gate validate` and of reload errors; a warning
 * printed beside errors (validate) says so with `warning: ` before the message.
 */
export function formatIssue(
  file: string,
  issue: Issue,
  severity: 'error' | 'warning' = 'error',
): string {
  const prefix = severity === 'warning' ? 'warning: ' : '';
  return `${file}:${issue.line}:${issue.col} ${prefix}${issue.message}`;
}

/** Sorts by position, then message, so output is stable. */
export function sortIssues(issues: Issue[]): Issue[] {
  return issues.sort(
    (a, b) =>
      a.line - b.line ||
      a.col - b.col ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
