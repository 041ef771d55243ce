/**
 * The pieces of unix-socket handling that need no process: group resolution from a group(5)
 * file, and how serve's config reads the socket and known-host flags.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { BUNDLED_KNOWN_HOSTS, resolveServeConfig } from '../../../src/config/service-config.js';
import { resolveGroup } from '../../../src/grpc/unix-socket.js';

let dir = '';
let groupFile = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-group-'));
  groupFile = path.join(dir, 'group');
  await writeFile(groupFile, 'root:x:0:\nenvoy:x:1337:envoy,mcp\n\nbroken-line\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveGroup', () => {
  test('a name is looked up, a number taken as the gid', async () => {
    expect(await resolveGroup('envoy', groupFile)).toBe(1337);
    expect(await resolveGroup('root', groupFile)).toBe(0);
    expect(await resolveGroup('4242', groupFile)).toBe(4242);
  });

  test('an unknown name and an unreadable file are named in the error', async () => {
    await expect(resolveGroup('mcp', groupFile)).rejects.toThrow(
      `group "mcp" is not in ${groupFile}`,
    );
    await expect(resolveGroup('envoy', path.join(dir, 'missing'))).rejects.toThrow(
      /cannot read .*missing to resolve group "envoy"/,
    );
  });
});

describe('resolveServeConfig: socket and known-host options', () => {
  const base = { allowlist: 'a.yaml', 'grpc-listen': 'unix:/run/x.sock' };

  test('defaults: the bundled known-host list, the socket left as the umask makes it', () => {
    const config = resolveServeConfig(base, {});
    expect(config.knownHostsPath).toBe(BUNDLED_KNOWN_HOSTS);
    expect(path.isAbsolute(BUNDLED_KNOWN_HOSTS)).toBe(true);
    expect(config.grpcSocketMode).toBeUndefined();
    expect(config.grpcSocketGroup).toBeUndefined();
  });

  test('"none" opts out of the known-host list, by flag or env', () => {
    expect(resolveServeConfig({ ...base, 'known-hosts': 'none' }, {}).knownHostsPath).toBe(
      undefined,
    );
    expect(resolveServeConfig(base, { MCP_GATE_KNOWN_HOSTS: 'none' }).knownHostsPath).toBe(
      undefined,
    );
  });

  test('mode is octal with or without the leading 0; group a name or gid', () => {
    const config = resolveServeConfig(
      { ...base, 'grpc-socket-mode': '0660', 'grpc-socket-group': 'envoy' },
      { MCP_GATE_GRPC_SOCKET_MODE: '0600' },
    );
    expect(config.grpcSocketMode).toBe(0o660);
    expect(config.grpcSocketGroup).toBe('envoy');
    expect(resolveServeConfig(base, { MCP_GATE_GRPC_SOCKET_MODE: '640' }).grpcSocketMode).toBe(
      0o640,
    );
  });

  test.each([
    [{ 'grpc-socket-mode': '0888' }, '--grpc-socket-mode'],
    [{ 'grpc-socket-mode': '01777' }, '--grpc-socket-mode'],
    [{ 'grpc-socket-group': 'bad group' }, '--grpc-socket-group'],
    [{ 'grpc-listen': '127.0.0.1:9191', 'grpc-socket-group': '0' }, 'need --grpc-listen unix:'],
  ])('%o is refused', (flags, message) => {
    expect(() => resolveServeConfig({ ...base, ...flags }, {})).toThrow(message);
  });
});
