/**
 * Where does a Check spend its CPU? Runs `dist/main.js serve` under `--cpu-prof` with the bench's
 * 1,000-entry allowlist, drives it with h2load (4×25) for a few seconds with one payload, stops
 * it, and prints the functions with the most self time, grouped by file.
 *
 *   npx tsx bench/profile.ts [--payload tools-call] [--seconds 8]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { generateAllowlist } from './allowlist-gen.js';
import { buildPayloads, PAYLOAD_NAMES, writePayloadFiles } from './payloads.js';
import type { PayloadName } from './payloads.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = path.resolve(import.meta.dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      payload: { type: 'string', default: 'tools-call' },
      seconds: { type: 'string', default: '8' },
      top: { type: 'string', default: '40' },
    },
  });
  const payloadName = values.payload as PayloadName;
  if (!PAYLOAD_NAMES.includes(payloadName)) throw new Error(`unknown payload ${payloadName}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-profile-'));
  try {
    const allowlist = path.join(dir, 'allowlist.yaml');
    await writeFile(allowlist, generateAllowlist(1000, new Date()));
    const files = await writePayloadFiles(buildPayloads([payloadName]), dir);
    const grpcPort = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-dir',
        dir,
        path.join(ROOT, 'dist/main.js'),
        'serve',
        '--allowlist',
        allowlist,
        '--known-hosts',
        path.join(ROOT, 'deploy/known-mcp-hosts.yaml'),
        '--grpc-listen',
        `127.0.0.1:${grpcPort}`,
        '--http-listen',
        '127.0.0.1:0',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const exited = new Promise<void>((resolveExit) =>
      child.once('exit', () => {
        resolveExit();
      }),
    );
    // The service logs nothing at warn level once listening; h2load retries nothing, so wait
    // for the port by trying a health request through h2load itself is overkill: poll connect.
    await waitForPort(grpcPort);
    const h2load = spawn(
      'h2load',
      [
        '-c4',
        '-m25',
        '-D',
        values.seconds,
        '-H',
        'content-type: application/grpc',
        '-H',
        'te: trailers',
        '-d',
        files.get(payloadName) ?? '',
        `http://127.0.0.1:${grpcPort}/envoy.service.auth.v3.Authorization/Check`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    h2load.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise<void>((resolveDone) =>
      h2load.once('exit', () => {
        resolveDone();
      }),
    );
    console.log(out.split('\n').find((l) => l.startsWith('finished in')) ?? out);
    child.kill('SIGTERM');
    await exited;
    const profileFile = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
    if (profileFile === undefined) throw new Error('no profile written');
    const profile = JSON.parse(await readFile(path.join(dir, profileFile), 'utf8')) as Profile;
    report(profile, Number(values.top));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function waitForPort(port: number): Promise<void> {
  const net = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const ok = await new Promise<boolean>((resolveTry) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolveTry(true);
      });
      socket.once('error', () => {
        resolveTry(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never opened`);
}

function report(profile: Profile, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const url = node.callFrame.url.replace(/^.*node_modules\//, '').replace(`file://${ROOT}/`, '');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const fileKey =
      url
        .split('/')
        .slice(0, url.startsWith('@') ? 2 : 1)
        .join('/') || node.callFrame.functionName;
    const group = url.startsWith('dist/') ? url : fileKey;
    file.set(group, (file.get(group) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  console.log('\nself time by file/package:');
  for (const [k, us] of [...file].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${pct(us)}  ${k}`);
  console.log('\nself time by function:');
  for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${pct(us)}  ${k}`);
}

await main();
