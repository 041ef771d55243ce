/**
 * `GET /discovery` on the telemetry listener: the discovery table as JSON.
 *
 * The table says who tried which unapproved server with which tools, so it is served only to a
 * caller with the bearer token of `--discovery-token-file`, compared in constant time. Without
 * that flag the path answers 404 and nothing is exposed: /metrics and the probes on the same
 * port are commonly open to the whole cluster. The file is read again on every request, so a
 * rotated Kubernetes Secret takes effect without a restart; a file that cannot be read, or is
 * empty, refuses every request (503) rather than opening the endpoint.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiscoverySnapshot } from './table.js';

export interface DiscoveryEndpoint {
  /** File holding the bearer token (surrounding white space ignored). */
  readonly tokenFile: string;
  /** The table to serve (a worker-mode primary merges its workers'). */
  readonly snapshot: () => Promise<DiscoverySnapshot>;
}

/** Reads the token; throws with a specific message when the file is unusable. */
export async function readDiscoveryToken(tokenFile: string): Promise<string> {
  let textRead: string;
  try {
    textRead = await readFile(tokenFile, 'utf8');
  } catch (err: unknown) {
    throw new Error(
      `--discovery-token-file ${tokenFile}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  const token = textRead.trim();
  if (token.length < 16) {
    throw new Error(
      `--discovery-token-file ${tokenFile}: the token must be at least 16 characters (got ${token.length})`,
    );
  }
  return token;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** True when `header` is `Bearer <token>`; hashing first makes the comparison length-blind. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  const presented = match?.[1] ?? '';
  // Compared even when absent, so a missing header costs the same as a wrong one.
  return timingSafeEqual(digest(presented), digest(token)) && presented !== '';
}

/** Answers one request to /discovery. */
export async function serveDiscovery(
  endpoint: DiscoveryEndpoint | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (endpoint === undefined) {
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('discovery is off: start serve with --discovery-token-file FILE\n');
    return;
  }
  let token: string;
  try {
    token = await readDiscoveryToken(endpoint.tokenFile);
  } catch (err: unknown) {
    res.writeHead(503, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    return;
  }
  if (!bearerMatches(req.headers.authorization, token)) {
    res
      .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
      .end('a bearer token is required\n');
    return;
  }
  const body = JSON.stringify(await endpoint.snapshot());
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
}
