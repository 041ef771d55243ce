/**
 * The WebSocket opening a real MCP client sends: the TypeScript SDK's WebSocketClientTransport
 * (in a child process, since Node 20 has WebSocket only behind --experimental-websocket) connects
 * to a loopback socket that records the request head, and mcp-gate judges exactly those bytes.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { authorize } from '../../src/core/pipeline.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { NOW } from '../adversarial/requests.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { catalogueSnapshot } from './judge.js';

interface Head {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
}

let head: Head;

/** Accepts one connection, keeps its request head, and closes it before any handshake. */
function captureOneHead(): Promise<{ port: number; head: Promise<Head>; close: () => void }> {
  return new Promise((resolveServer) => {
    let deliver: (h: Head) => void = () => undefined;
    const got = new Promise<Head>((resolve) => {
      deliver = resolve;
    });
    const server = createServer((socket) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [requestLine = '', ...lines] = text.slice(0, end).split('\r\n');
        const [method = '', path = ''] = requestLine.split(' ');
        deliver({
          method,
          path,
          headers: lines.map((line) => {
            const colon = line.indexOf(':');
            return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
          }),
        });
        socket.destroy();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolveServer({
        port: (server.address() as AddressInfo).port,
        head: got,
        close: () => server.close(),
      });
    });
  });
}

beforeAll(async () => {
  const capture = await captureOneHead();
  const script = [
    "import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';",
    `const transport = new WebSocketClientTransport(new URL('ws://127.0.0.1:${capture.port}/mcp'));`,
    'await transport.start().catch(() => undefined);',
  ].join('\n');
  const flags = typeof globalThis.WebSocket === 'undefined' ? ['--experimental-websocket'] : [];
  const child = execFile(process.execPath, [...flags, '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
  });
  head = await capture.head;
  child.kill();
  capture.close();
}, 30_000);

function judge(authority: string): { verdict: string; reason: string; detail: unknown } {
  const facts = toRequestFacts(
    envoyCheckRequest({
      method: head.method,
      authority,
      path: head.path,
      headers: head.headers.filter(([name]) => name !== 'host'),
    }),
  );
  const { decision } = authorize(catalogueSnapshot(), facts, NOW, 'websocket');
  return { verdict: decision.verdict, reason: decision.reason, detail: decision.detail };
}

describe('differential – the MCP SDK WebSocket client opening', () => {
  it('offers the mcp subprotocol on an Upgrade GET', () => {
    expect(head.method).toBe('GET');
    const headers = new Map(head.headers);
    expect(headers.get('upgrade')?.toLowerCase()).toBe('websocket');
    expect(headers.get('sec-websocket-protocol')).toBe('mcp');
  });

  it('is unapproved on a server nobody approved', () => {
    expect(judge('mcp.evil.example')).toEqual({
      verdict: 'deny',
      reason: 'unapproved',
      detail: undefined,
    });
  });

  it('is uninspectable on an entry with tool rules, approved on one without', () => {
    expect(judge('api.githubcopilot.com')).toMatchObject({ verdict: 'deny', detail: 'websocket' });
    expect(judge('tools.corp.example')).toMatchObject({ verdict: 'allow', reason: 'approved' });
  });
});
