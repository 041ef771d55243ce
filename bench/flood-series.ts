/**
 * `npx tsx bench/flood-series.ts [N]`: the `/metrics` series count of a real `serve` on the
 * bundled allowlist and known-host list, before and after N (default 100,000) Checks, each with a
 * random host, tool name and AI client (clientInfo name and User-Agent); and the process's heap
 * and RSS around it. Half the requests are tools/call to random hosts (unapproved: recorded by
 * discovery), half random tools on an approved server. Audit lines are read and discarded.
 * Prints one line per figure.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

import { createAuthzClient } from '../test/helpers/authz-client.js';
import { envoyCheckRequest } from '../test/helpers/envoy-check-request.js';
import { MAIN, ROOT, cleanEnv } from '../test/helpers/serve-process.js';

const FLOOD = Number(process.argv[2] ?? '100000');
const IN_FLIGHT = 64;

const child = spawn(
  process.execPath,
  [
    MAIN,
    'serve',
    '--allowlist',
    'deploy/allowlist.yaml',
    '--grpc-listen',
    '127.0.0.1:0',
    '--http-listen',
    '127.0.0.1:0',
  ],
  { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
);
const ports = await new Promise<{ grpc: number; http: number }>((resolve, reject) => {
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (line['msg'] === 'mcp-gate listening') {
      const port = (address: unknown): number => Number(String(address).split(':').pop());
      resolve({ grpc: port(line['grpc']), http: port(line['http']) });
    }
  });
  child.once('exit', () => {
    reject(new Error('serve exited before listening'));
  });
});

async function metrics(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${String(ports.http)}/metrics`);
  return response.text();
}

function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

function report(label: string, text: string): void {
  const series = text.split('\n').filter((l) => l.startsWith('mcp_gate_'));
  const discovered = series.filter((l) => l.startsWith('mcp_gate_discovered_attempts')).length;
  const heap = sample(text, 'nodejs_heap_size_used_bytes') / 1024 / 1024;
  const rss = sample(text, 'process_resident_memory_bytes') / 1024 / 1024;
  process.stdout.write(
    `${label}: ${String(series.length)} mcp_gate_ series (${String(discovered)} discovered_attempts); ` +
      `heap used ${heap.toFixed(1)} MiB, RSS ${rss.toFixed(1)} MiB\n`,
  );
}

function request(i: number): Parameters<ReturnType<typeof createAuthzClient>['check']>[0] {
  const name = randomBytes(9).toString('base64url');
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: i,
    method: 'tools/call',
    params: {
      name: `tool_${name}`,
      arguments: {},
      _meta: { 'io.modelcontextprotocol/clientInfo': { name: `agent-${name}` } },
    },
  });
  const approved = i % 2 === 0;
  return envoyCheckRequest({
    method: 'POST',
    authority: approved
      ? 'api.githubcopilot.com'
      : `${name.toLowerCase()}.mcp-${String(i)}.example`,
    path: approved ? '/mcp/' : '/mcp',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      'user-agent': `${name}/1.${String(i)}`,
    },
    body,
    packAsBytes: true,
  });
}

const client = createAuthzClient(`127.0.0.1:${String(ports.grpc)}`);
try {
  report('before', await metrics());
  let next = 0;
  let denied = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < FLOOD) {
        const i = next++;
        const response = await client.check(request(i), 30_000);
        if (response.status?.code === 7) denied += 1;
      }
    }),
  );
  report(
    `after ${String(FLOOD)} random hosts, tools and clients (${String(denied)} denied)`,
    await metrics(),
  );
} finally {
  client.close();
  child.kill('SIGTERM');
}
