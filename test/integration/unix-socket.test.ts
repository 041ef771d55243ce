/**
 * `serve --grpc-listen unix:/path` against what a real host leaves at that path: a stale socket
 * from a crash (replaced), a live one of another process (left alone, the second serve fails),
 * a regular file (never removed), a missing directory (a clear error); the socket's mode and
 * group (--grpc-socket-mode, --grpc-socket-group), and its removal on SIGTERM.
 *
 * The stale socket is made the way production makes one: a serve killed with SIGKILL, which
 * runs no cleanup. Every wait is for a log line or an exit, never a sleep.
 */
import { lstat, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';

import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { githubAllowlist } from '../helpers/github-allowlist.js';
import {
  killServeProcesses,
  listening,
  startServe,
  stopWith,
  TEST_SERVE_FLAGS,
} from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const tempDirs: string[] = [];
const clients: AuthzClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A temp dir with an allowlist; the socket path inside it. */
async function setup(): Promise<{ dir: string; allowlist: string; socket: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-sock-'));
  tempDirs.push(dir);
  const allowlist = path.join(dir, 'allowlist.yaml');
  await writeFile(allowlist, githubAllowlist());
  return { dir, allowlist, socket: path.join(dir, 'authz.sock') };
}

function serveOn(allowlist: string, socket: string, extra: readonly string[] = []): ServeProcess {
  return startServe([
    '--allowlist',
    allowlist,
    '--grpc-listen',
    `unix:${socket}`,
    ...TEST_SERVE_FLAGS,
    ...extra,
  ]);
}

/** Leaves a stale socket at `socket` as a crash does: a serve killed with SIGKILL. */
async function crashOn(allowlist: string, socket: string): Promise<void> {
  const crashed = serveOn(allowlist, socket);
  await crashed.waitForLog('mcp-gate listening', listening);
  crashed.child.kill('SIGKILL');
  await crashed.exited;
}

function client(socket: string): AuthzClient {
  const c = createAuthzClient(`unix:${socket}`);
  clients.push(c);
  return c;
}

/** A group from /etc/group other than this process's (falling back to its own). */
async function otherGroup(): Promise<{ name: string; gid: number }> {
  const own = process.getgid?.() ?? 0;
  const groups = (await readFile('/etc/group', 'utf8'))
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f[0] !== undefined && f[0] !== '' && /^\d+$/.test(f[2] ?? ''))
    .map((f) => ({ name: f[0] ?? '', gid: Number(f[2]) }));
  // Only root may give a file to a group it is not in; anyone else can test with its own.
  const wanted = process.getuid?.() === 0 ? groups.find((g) => g.gid !== own) : undefined;
  return wanted ?? groups.find((g) => g.gid === own) ?? { name: String(own), gid: own };
}

describe('serve --grpc-listen unix:/path', () => {
  test('a stale socket left by a crash is replaced; health answers on it', async () => {
    const { allowlist, socket } = await setup();
    await crashOn(allowlist, socket);
    // SIGKILL ran no cleanup: the socket file is still there, and nobody accepts on it.
    expect((await lstat(socket)).isSocket()).toBe(true);

    const serve = serveOn(allowlist, socket);
    await serve.waitForLog('mcp-gate listening', listening);
    expect(await client(socket).health('')).toBe('SERVING');
    expect(await stopWith(serve, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
  });

  test('a live socket is not stolen: the second serve fails, the first keeps serving', async () => {
    const { allowlist, socket } = await setup();
    const first = serveOn(allowlist, socket);
    await first.waitForLog('mcp-gate listening', listening);

    const second = serveOn(allowlist, socket);
    expect(await second.exited).toMatchObject({ code: 1, signal: null });
    expect(second.stderr()).toContain(`another process listens on ${socket}`);
    expect(await client(socket).health('')).toBe('SERVING');
    expect(await stopWith(first, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
  });

  test('a regular file at the path is left alone, with a clear error', async () => {
    const { allowlist, socket } = await setup();
    await writeFile(socket, 'not a socket\n');
    const serve = serveOn(allowlist, socket);
    expect(await serve.exited).toMatchObject({ code: 1, signal: null });
    expect(serve.stderr()).toContain(`${socket} exists and is not a socket; not removing it`);
    expect(await readFile(socket, 'utf8')).toBe('not a socket\n');
  });

  test('a missing directory gives a clear error', async () => {
    const { dir, allowlist } = await setup();
    const missing = path.join(dir, 'no-such-dir');
    const serve = serveOn(allowlist, path.join(missing, 'authz.sock'));
    expect(await serve.exited).toMatchObject({ code: 1, signal: null });
    expect(serve.stderr()).toContain(`directory ${missing} does not exist`);
    expect(serve.stderr()).not.toMatch(/EACCES|ENOENT/);
  });

  test('--grpc-socket-mode 0660 is applied before the service is ready', async () => {
    const { allowlist, socket } = await setup();
    const serve = serveOn(allowlist, socket, ['--grpc-socket-mode', '0660']);
    await serve.waitForLog('mcp-gate listening', listening);
    expect((await stat(socket)).mode & 0o777).toBe(0o660);
    expect(await client(socket).health('')).toBe('SERVING');
  });

  test('--grpc-socket-group by numeric gid is applied', async () => {
    const { allowlist, socket } = await setup();
    const group = await otherGroup();
    const serve = serveOn(allowlist, socket, ['--grpc-socket-group', String(group.gid)]);
    await serve.waitForLog('mcp-gate listening', listening);
    expect((await stat(socket)).gid).toBe(group.gid);
  });

  test('--grpc-socket-group by name (from /etc/group) is applied, with the mode', async () => {
    const { allowlist, socket } = await setup();
    const group = await otherGroup();
    const serve = serveOn(allowlist, socket, [
      '--grpc-socket-group',
      group.name,
      '--grpc-socket-mode',
      '660',
    ]);
    await serve.waitForLog('mcp-gate listening', listening);
    const info = await stat(socket);
    expect(info.gid).toBe(group.gid);
    expect(info.mode & 0o777).toBe(0o660);
  });

  test('an unknown group is a configuration error (exit 2); no socket is left', async () => {
    const { allowlist, socket } = await setup();
    const serve = serveOn(allowlist, socket, ['--grpc-socket-group', 'no-such-group-mcp-gate']);
    expect(await serve.exited).toMatchObject({ code: 2, signal: null });
    expect(serve.stderr()).toContain('group "no-such-group-mcp-gate" is not in /etc/group');
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test.each([
    ['a mode that is not octal', ['--grpc-socket-mode', 'rw-rw----'], '--grpc-socket-mode'],
    ['a mode with setuid bits', ['--grpc-socket-mode', '4755'], '--grpc-socket-mode'],
    ['a group that cannot be a name', ['--grpc-socket-group', 'a:b'], '--grpc-socket-group'],
  ])('%s: exit 2 naming the flag', async (_name, flags, named) => {
    const { allowlist, socket } = await setup();
    const serve = serveOn(allowlist, socket, flags);
    expect(await serve.exited).toMatchObject({ code: 2, signal: null });
    expect(serve.stderr()).toContain(named);
  });

  test('socket options with a TCP listener: exit 2 (they would silently do nothing)', async () => {
    const { allowlist } = await setup();
    const serve = startServe([
      '--allowlist',
      allowlist,
      '--grpc-listen',
      '127.0.0.1:0',
      ...TEST_SERVE_FLAGS,
      '--grpc-socket-mode',
      '0660',
    ]);
    expect(await serve.exited).toMatchObject({ code: 2, signal: null });
    expect(serve.stderr()).toContain('need --grpc-listen unix:/path');
  });

  test('the socket file is removed on SIGTERM', async () => {
    const { allowlist, socket } = await setup();
    const serve = serveOn(allowlist, socket);
    await serve.waitForLog('mcp-gate listening', listening);
    expect((await lstat(socket)).isSocket()).toBe(true);
    expect(await stopWith(serve, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('--workers 2: a stale socket is replaced once, by the supervisor, and removed on SIGTERM', async () => {
    const { allowlist, socket } = await setup();
    await crashOn(allowlist, socket);

    const serve = serveOn(allowlist, socket, ['--workers', '2', '--grpc-socket-mode', '0660']);
    await serve.waitForLog('mcp-gate listening', listening);
    expect((await stat(socket)).mode & 0o777).toBe(0o660);
    expect(await client(socket).health('')).toBe('SERVING');
    expect(await stopWith(serve, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
