/**
 * `mcp-gate render-envoy` as a command (in-process), and `serve --envoy-render-dir` keeping the
 * files current across reloads: rendered after the first load, re-rendered after a reload that
 * changes the inspection set, untouched by a reload that fails, and a render that fails is logged
 * and counted while checks go on being answered.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { runCli } from '../../src/cli.js';
import { createEnvoyRenderer } from '../../src/envoy-render/keep-rendered.js';
import { DEFAULT_CA_BUNDLE } from '../../src/envoy-render/layout.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { githubAllowlist } from '../helpers/github-allowlist.js';
import { readTree, renderAllowlist, REPO_ROOT, resourcesOf } from '../helpers/rendered-envoy.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';

describe('mcp-gate render-envoy', () => {
  it('writes certificates.yaml only with an issuer, as cert-manager Certificates', async () => {
    const without = await renderAllowlist('test/fixtures/allowlists/interception.yaml');
    expect(without.files.has('certificates.yaml')).toBe(false);
    const withIssuer = await renderAllowlist('test/fixtures/allowlists/interception.yaml', [
      '--cert-manager-issuer',
      'corp-ca',
      '--cert-manager-issuer-kind',
      'ClusterIssuer',
    ]);
    expect(withIssuer.code, withIssuer.stderr).toBe(0);
    const text = withIssuer.files.get('certificates.yaml') ?? '';
    const docs = text.split(/^---$/m);
    expect(docs).toHaveLength(3);
    expect(text).toContain(`kind: Certificate
metadata:
  name: mcp-gate-tls-mcp.corp.example
  labels:
    app.kubernetes.io/part-of: mcp-gate
spec:
  secretName: mcp-gate-tls-mcp.corp.example
  dnsNames:
    - mcp.corp.example
  duration: 720h
  renewBefore: 240h
  privateKey:
    algorithm: ECDSA
    size: 256
    rotationPolicy: Always
  usages:
    - digital signature
    - server auth
  issuerRef:
    name: corp-ca
    kind: ClusterIssuer
    group: cert-manager.io
`);
    expect(text).toContain('"*.tools.example.net"');
  });

  it('puts the Envoy-side paths it is given into the files', async () => {
    const result = await renderAllowlist('test/fixtures/allowlists/interception.yaml', [
      '--certs-dir',
      '/srv/certs',
      '--dynamic-dir',
      '/srv/dynamic',
      '--ca-bundle',
      '/srv/ca.pem',
    ]);
    expect(result.files.get('sds/mcp.example.com.yaml')).toContain(
      'filename: /srv/certs/mcp.example.com/tls.crt',
    );
    expect(result.files.get('lds.yaml')).toContain('path: /srv/dynamic/sds/mcp.example.com.yaml');
    expect(result.files.get('cds.yaml')).toContain('filename: /srv/ca.pem');
    expect(result.files.get('cds.yaml')).not.toContain(DEFAULT_CA_BUNDLE);
  });

  it('an invalid allowlist writes nothing and exits 1 with the loader’s errors', async () => {
    const result = await renderAllowlist('test/fixtures/allowlists/invalid-hosts.yaml');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/invalid-hosts\.yaml:\d+:\d+ /);
    expect(result.stderr).toContain('render-envoy: nothing written: the allowlist is invalid');
    expect(result.files.size).toBe(0);
  });

  it.each([
    { name: 'no --out', args: ['render-envoy', '--allowlist', 'x.yaml'] },
    {
      name: 'an issuer kind that is neither',
      args: ['--cert-manager-issuer', 'ca', '--cert-manager-issuer-kind', 'Vault'],
    },
    { name: 'a kind without an issuer', args: ['--cert-manager-issuer-kind', 'Issuer'] },
    { name: 'an issuer that is no object name', args: ['--cert-manager-issuer', 'Corp CA'] },
    { name: 'an unknown flag', args: ['--certs', '/x'] },
  ])('usage error, exit 2: $name', async ({ args }) => {
    const result =
      args[0] === 'render-envoy'
        ? await renderUsage(args)
        : await renderAllowlist('test/fixtures/allowlists/interception.yaml', args);
    expect(result.code).toBe(2);
    expect(result.files.size).toBe(0);
  });
});

/** render-envoy with exactly `args` (no --out given by the helper). */
async function renderUsage(
  args: string[],
): Promise<{ code: number; files: ReadonlyMap<string, string> }> {
  const code = await runCli(args, {
    stdout: () => undefined,
    stderr: () => undefined,
    now: new Date(),
    env: {},
  });
  return { code, files: new Map() };
}

describe('serve --envoy-render-dir', () => {
  let service: TestService | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const hostsIn = (files: ReadonlyMap<string, string>): unknown[] =>
    (resourcesOf(files.get('rds.yaml'))[0]?.['virtual_hosts'] as { name: string }[]).map(
      (v) => v.name,
    );

  it('renders after the first load and after each reload that succeeds', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-serve-render-'));
    const out = path.join(dir, 'dynamic');
    service = await startTestService({
      allowlist: githubAllowlist({ allow: ['get_*'] }),
      flags: { 'envoy-render-dir': out, 'cert-manager-issuer': 'corp-ca' },
    });
    expect(hostsIn(await readTree(out))).toEqual(['intercept_api.githubcopilot.com_443', 'any']);
    expect((await readTree(out)).has('certificates.yaml')).toBe(true);

    // An allowlist whose one entry needs only its host: nothing to intercept any more.
    await writeFile(
      service.allowlistPath,
      await readFile(path.join(REPO_ROOT, 'test/fixtures/allowlists/host-only.yaml'), 'utf8'),
    );
    await service.service.store.reload('test');
    await service.waitForLog(
      (l) => l['msg'] === 'envoy config rendered' && l['version'] === 'host-only.1',
    );
    const after = await readTree(out);
    expect(hostsIn(after)).toEqual(['any']);
    expect(after.has('sds/api.githubcopilot.com.yaml')).toBe(false);

    // A broken allowlist renders nothing: the files stay as they were.
    await writeFile(service.allowlistPath, 'version: [\n');
    await service.service.store.reload('test');
    expect(await readTree(out)).toEqual(after);
    expect(
      await service.registry.getSingleMetricAsString('mcp_gate_envoy_renders_total'),
    ).toContain('mcp_gate_envoy_renders_total{result="success"} 2');
  });

  it('a render that fails is logged and counted; the service still starts with its allowlist', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-serve-render-'));
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    service = await startTestService({
      allowlist: githubAllowlist({ allow: ['get_*'] }),
      flags: { 'envoy-render-dir': path.join(blocker, 'dynamic') },
    });
    const line = await service.waitForLog(
      (l) => l['msg'] === 'envoy config render failed; the files of the last good render stay',
    );
    expect(line['level']).toBe('error');
    expect(service.service.store.current?.policy.version).toBe('2026.11');
    const metrics = await service.registry.getSingleMetricAsString('mcp_gate_envoy_renders_total');
    expect(metrics).toContain('mcp_gate_envoy_renders_total{result="failure"} 1');
  });
});

describe('createEnvoyRenderer', () => {
  it('renders one policy at a time, and only the newest of those that waited', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-renderer-'));
    try {
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          for (const text of chunk.toString('utf8').split('\n')) {
            if (text.trim() !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
          }
          callback();
        },
      });
      const results: string[] = [];
      const renderer = createEnvoyRenderer(
        {
          outDir: dir,
          options: {
            dynamicDir: '/etc/envoy/dynamic',
            certsDir: '/etc/envoy/certs',
            caBundle: DEFAULT_CA_BUNDLE,
            mcpGateClientDir: '/etc/envoy/mcp-gate-client',
            issuer: undefined,
          },
        },
        {
          logger: createLogger({ level: 'info', destination: sink }),
          record: (result) => results.push(result),
        },
      );
      const policy = (version: string) =>
        ({ version, entries: [] }) as unknown as Parameters<typeof renderer.render>[0];
      const all = [renderer.render(policy('1')), renderer.render(policy('2'))];
      await renderer.render(policy('3'));
      await Promise.all(all);
      expect(
        lines.filter((l) => l['msg'] === 'envoy config rendered').map((l) => l['version']),
      ).toEqual(['1', '3']);
      expect(results).toEqual(['success', 'success']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
