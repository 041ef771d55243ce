/**
 * One reported server's verdict against the allowlist (docs/inventory.md, "Matching"). Pure.
 *
 * - http and sse servers: the URL is split as the service splits a request (core/normalise.ts:
 *   the authority through normaliseAuthority, the path through normalisePath) and looked up with
 *   the compiled policy's matchRequest, the service's own lookup;
 * - stdio servers: `command` and then each argument compared exactly with a `transport: stdio`
 *   entry's `command` and `allowed_args` (absent = no arguments); `$USER` in either stands for
 *   the report's user name, literally, and nothing else is a pattern;
 * - an entry that matches but expired or lost its review stamp approves nothing, by the rule the
 *   service uses (core/policy/decide.ts serverLevelDenial);
 * - a server whose entry could not be read (`unknown` transport) or whose URL cannot be read
 *   with certainty is `unreadable`, never approved.
 * `default_action: allow` does not approve anything here: it lets unlisted traffic pass, it is
 * not a review (discovery counts the same traffic as shadow MCP).
 */
import { absoluteFormParts, normaliseAuthority, normalisePath } from '../core/normalise.js';
import { serverLevelDenial } from '../core/policy/decide.js';
import type { CompiledEntry, CompiledPolicy } from '../core/policy/policy.js';
import type { ReportedServer } from './report.js';

/** What a server is, as far as the allowlist goes. */
export const VERDICTS = ['approved', 'unapproved', 'expired', 'rotation', 'unreadable'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The placeholder an allowlist's stdio `command` or `allowed_args` may use for the user name. */
export const USER_PLACEHOLDER = '$USER';

/** A verdict, the entry that decided it, and why. */
export interface Judgement {
  readonly verdict: Verdict;
  readonly entry: CompiledEntry | undefined;
  readonly why: string;
}

/** One server's verdict. */
export function judgeServer(
  server: ReportedServer,
  user: string,
  policy: CompiledPolicy,
  nowMs: number,
): Judgement {
  switch (server.transport) {
    case 'stdio':
      return judgeStdio(server, user, policy, nowMs);
    case 'http':
    case 'sse':
      return judgeUrl(server.url ?? '', policy, nowMs);
    case 'unknown':
      return { verdict: 'unreadable', entry: undefined, why: 'the config entry could not be read' };
  }
}

function withEntry(entry: CompiledEntry, nowMs: number): Judgement {
  const denial = serverLevelDenial(entry, nowMs);
  if (denial === undefined)
    return { verdict: 'approved', entry, why: `approved by entry ${entry.id}` };
  // serverLevelDenial only ever answers the server-level reasons.
  const verdict = denial.reason === 'expired' ? 'expired' : 'rotation';
  return { verdict, entry, why: denial.why };
}

function judgeUrl(url: string, policy: CompiledPolicy, nowMs: number): Judgement {
  const unreadable = (why: string): Judgement => ({ verdict: 'unreadable', entry: undefined, why });
  const parts = absoluteFormParts(url);
  if (parts === undefined) return unreadable(`${JSON.stringify(url)} is not an absolute URL`);
  if (parts.scheme !== 'http' && parts.scheme !== 'https') {
    return unreadable(`the scheme ${JSON.stringify(parts.scheme)} is not http or https`);
  }
  if (parts.authority.includes('@')) {
    return unreadable('the URL carries user info (a credential in the config file)');
  }
  const { host, port } = normaliseAuthority(parts.authority);
  if (host === '') {
    return unreadable(`the host ${JSON.stringify(parts.authority)} cannot be read with certainty`);
  }
  const path = normalisePath(url);
  const entry = policy.matchRequest(host, port, path);
  if (entry === undefined) {
    const where = `${host}${port === undefined ? '' : `:${port}`}${path}`;
    return { verdict: 'unapproved', entry: undefined, why: `no http entry matches ${where}` };
  }
  return withEntry(entry, nowMs);
}

/** `$USER` replaced by the user name; undefined when there is no user name to put there. */
function expandUser(text: string, user: string): string | undefined {
  if (!text.includes(USER_PLACEHOLDER)) return text;
  return user === '' ? undefined : text.split(USER_PLACEHOLDER).join(user);
}

/** Whether a stdio entry approves exactly this command and these arguments. */
export function stdioEntryMatches(
  entry: CompiledEntry,
  command: string,
  args: readonly string[],
  user: string,
): boolean {
  if (entry.transport !== 'stdio' || entry.command === undefined) return false;
  if (expandUser(entry.command, user) !== command) return false;
  const allowed = entry.allowedArgs ?? [];
  return (
    allowed.length === args.length && allowed.every((arg, i) => expandUser(arg, user) === args[i])
  );
}

function judgeStdio(
  server: ReportedServer,
  user: string,
  policy: CompiledPolicy,
  nowMs: number,
): Judgement {
  const command = server.command ?? '';
  const [first, ...others] = policy.entries.filter((entry) =>
    stdioEntryMatches(entry, command, server.args, user),
  );
  if (first === undefined) {
    const sameCommand = policy.entries
      .filter((entry) => entry.transport === 'stdio' && entry.command !== undefined)
      .filter((entry) => expandUser(entry.command ?? '', user) === command)
      .map((entry) => entry.id);
    const hint =
      sameCommand.length === 0
        ? ''
        : ` (entries for this command with other arguments: ${sameCommand.join(', ')})`;
    return {
      verdict: 'unapproved',
      entry: undefined,
      why: `no stdio entry approves this command with these arguments${hint}`,
    };
  }
  // Several entries may approve the same program (per team, say): one in force is enough.
  const judgements = [first, ...others].map((entry) => withEntry(entry, nowMs));
  return judgements.find((judged) => judged.verdict === 'approved') ?? withEntry(first, nowMs);
}

/**
 * What makes two servers on two machines the same: the program and its arguments for stdio, the
 * normalised host, port and path for a URL (a URL that cannot be read: as written).
 */
export function serverKey(server: ReportedServer): string {
  switch (server.transport) {
    case 'stdio':
      return `stdio ${[server.command ?? '', ...server.args].map(shellWord).join(' ')}`;
    case 'http':
    case 'sse': {
      const url = server.url ?? '';
      const parts = absoluteFormParts(url);
      const { host, port } = normaliseAuthority(parts?.authority ?? '');
      if (parts === undefined || host === '') return `${server.transport} ${url}`;
      return `${server.transport} ${host}${port === undefined ? '' : `:${port}`}${normalisePath(url)}`;
    }
    case 'unknown':
      return `unknown ${JSON.stringify(server.name)}`;
  }
}

/** A word as a shell would need it to be one word; plain words stay as they are. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : JSON.stringify(word);
}
