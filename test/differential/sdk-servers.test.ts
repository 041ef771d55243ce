/**
 * Proves the differential harness against the servers' real behaviour: each expectation below was
 * first observed through the harness and matches what the module comment of
 * test/differential/sdk-servers.ts derives from node_modules. If an SDK upgrade changes one, the
 * harness comment and the differential suite's assumptions need revisiting, not just this file.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkServers, UnsendableRequestError } from './sdk-servers.js';
import type { RawRequest, SdkServers, ServerRun } from './sdk-servers.js';

const TOOLS = ['search_code', 'delete_repo'];
const JSON_TYPE = ['content-type', 'application/json'] as const;
const ACCEPT = ['accept', 'application/json, text/event-stream'] as const;

function toolsCall(name: string, id = 1): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: {} },
  });
}

function post(
  body: string | Uint8Array,
  headers: readonly (readonly [string, string])[] = [JSON_TYPE, ACCEPT],
  path = '/mcp',
): RawRequest {
  return {
    method: 'POST',
    path,
    headers,
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
  };
}

/** `{ server: 'status mount tool, …' }`: one line per server, so a failure shows every server. */
function outcome(runs: readonly ServerRun[]): Record<string, string> {
  return Object.fromEntries(
    runs.map((run) => [
      run.server,
      [String(run.status), ...run.ran.map(({ mount, tool }) => `${mount} ${tool}`)].join(' '),
    ]),
  );
}

let servers: SdkServers;

beforeAll(async () => {
  servers = await startSdkServers({ tools: TOOLS });
});

afterAll(async () => {
  await servers.close();
});

describe('the SDK server harness', () => {
  it('starts the four servers', () => {
    expect(servers.names).toEqual(['v1-express-streamable', 'v1-sse', 'v2-node', 'v1-webstandard']);
  });

  it('runs a plain tools/call on every server, without initialize', async () => {
    expect(outcome(await servers.send(post(toolsCall('search_code'))))).toEqual({
      'v1-express-streamable': '200 /mcp search_code',
      // The legacy transport accepts with 202 and answers on the SSE stream.
      'v1-sse': '202 /sse search_code',
      'v2-node': '200 /mcp search_code',
      'v1-webstandard': '200 /mcp search_code',
    });
  });

  it('runs a charset=utf-7 body only where the charset is decoded (body-parser, raw-body)', async () => {
    // `+AHs-` is UTF-7 for `{`: read as UTF-8 the body is not JSON at all.
    const body = toolsCall('delete_repo').replace('{', '+AHs-');
    expect(body.startsWith('+AHs-"jsonrpc"')).toBe(true);
    const runs = await servers.send(
      post(body, [['content-type', 'application/json; charset=utf-7'], ACCEPT]),
    );
    expect(outcome(runs)).toEqual({
      'v1-express-streamable': '200 /mcp delete_repo',
      'v1-sse': '202 /sse delete_repo',
      // Both decode every body as UTF-8, whatever the charset says.
      'v2-node': '400',
      'v1-webstandard': '400',
    });
  });

  it('runs a gzip body only where the server inflates it (Express)', async () => {
    const body = new Uint8Array(gzipSync(toolsCall('delete_repo')));
    const runs = await servers.send(post(body, [JSON_TYPE, ACCEPT, ['content-encoding', 'gzip']]));
    expect(outcome(runs)).toEqual({
      'v1-express-streamable': '200 /mcp delete_repo',
      'v1-sse': '400',
      'v2-node': '400',
      'v1-webstandard': '400',
    });
  });

  it('serves the raw path /mcp/x/../open/ at the /mcp mount: Express does not resolve dot segments', async () => {
    const dotted = await servers.send(post(toolsCall('search_code'), undefined, '/mcp/x/../open/'));
    expect(outcome(dotted)).toEqual({
      // The first segment is `mcp` and the second `x`: `/mcp/open` does not match, `/mcp` does.
      'v1-express-streamable': '200 /mcp search_code',
      'v1-sse': '202 /sse search_code',
      // A raw prefix test sees `/mcp/`; WHATWG URL resolves the path to `/mcp/open/`.
      'v2-node': '200 /mcp search_code',
      'v1-webstandard': '200 /mcp search_code',
    });
    // The control: the resolved path reaches the other mount.
    const open = await servers.send(post(toolsCall('search_code'), undefined, '/mcp/open/'));
    expect(open[0]).toEqual({
      server: 'v1-express-streamable',
      status: 200,
      ran: [{ mount: '/mcp/open', tool: 'search_code' }],
    });
  });

  it('routes on the WHATWG-resolved path only on the web-standard server', async () => {
    const runs = await servers.send(post(toolsCall('search_code'), undefined, '/x/%2e%2e/mcp'));
    expect(outcome(runs)).toEqual({
      'v1-express-streamable': '404',
      'v1-sse': '202 /sse search_code',
      'v2-node': '404',
      'v1-webstandard': '200 /mcp search_code',
    });
  });

  it('sends a repeated content-type header as two header lines', async () => {
    // Two lines, not one: node:http gives the legacy transport only the first (it runs), and
    // @hono/node-server and Headers join the two into one value no media type parses (415).
    // One joined line would fail the legacy transport's strict parse; one dropped line would run.
    const runs = await servers.send(post(toolsCall('delete_repo'), [JSON_TYPE, ACCEPT, JSON_TYPE]));
    expect(outcome(runs)).toEqual({
      'v1-express-streamable': '415',
      'v1-sse': '202 /sse delete_repo',
      'v2-node': '415',
      'v1-webstandard': '415',
    });
  });

  it('runs every call of a batch on the streamable servers and none on the legacy one', async () => {
    const batch = `[${toolsCall('search_code', 1)},${toolsCall('delete_repo', 2)}]`;
    expect(outcome(await servers.send(post(batch)))).toEqual({
      'v1-express-streamable': '200 /mcp search_code /mcp delete_repo',
      'v1-sse': '400',
      'v2-node': '200 /mcp search_code /mcp delete_repo',
      'v1-webstandard': '200 /mcp search_code /mcp delete_repo',
    });
  });

  it('reports each request its own runs when sends overlap', async () => {
    const tools = Array.from({ length: 12 }, (_, i) => TOOLS[i % 2]!);
    const results = await Promise.all(
      tools.map((tool, i) => servers.send(post(toolsCall(tool, i)))),
    );
    results.forEach((runs, i) => {
      for (const run of runs) expect(run.ran.map(({ tool }) => tool)).toEqual([tools[i]]);
    });
  });

  it('throws UnsendableRequestError for a request node:http refuses to write', async () => {
    const newline = post(toolsCall('search_code'), [JSON_TYPE, ACCEPT, ['x-evil', 'a\r\nb']]);
    await expect(servers.send(newline)).rejects.toBeInstanceOf(UnsendableRequestError);
    const spaced = post(toolsCall('search_code'), undefined, '/mcp x');
    await expect(servers.send(spaced)).rejects.toThrow(/node:http will not send/);
  });
});

describe('closing the harness', () => {
  const counted = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'];
  const count = () => {
    const active = process.getActiveResourcesInfo();
    return Object.fromEntries(
      counted.map((kind) => [kind, active.filter((k) => k === kind).length]),
    );
  };

  it('leaves no server, socket or timer behind', async () => {
    const before = count();
    const own = await startSdkServers({ tools: TOOLS });
    await own.send(post(toolsCall('search_code')));
    expect(count()['TCPServerWrap']).toBe(before['TCPServerWrap']! + 4);
    await own.close();
    const after = count();
    for (const kind of counted) expect(after[kind], kind).toBeLessThanOrEqual(before[kind]!);
    await expect(own.send(post(toolsCall('search_code')))).rejects.toThrow(/after close/);
  });
});
