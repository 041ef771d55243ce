/**
 * The endpoint inventory end to end: `inventory scan` on home folders laid out as macOS, Windows
 * and Linux lay them out (built in a temp folder, with the files that go wrong on real machines:
 * malformed JSON, an unknown shape, a 2 MiB file, a symbolic link loop, JSONC, and credential
 * values that must never appear in any output), then `inventory check` of those reports against
 * test/fixtures/allowlists/inventory.yaml: servers not approved, expired and re-stamped entries,
 * `$USER`, servers on several machines, changed config hashes, and the exit codes.
 *
 * In-process through runCli, except one run of the scanner entry copied out of dist/ without
 * node_modules, which is what "runs with Node alone" means.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { InventoryReport } from '../../src/inventory/report.js';
import { parseReport } from '../../src/inventory/report-schema.js';
import { reachableFrom, readImportGraph } from '../helpers/import-graph.js';
import { runCommand } from '../helpers/run-command.js';
import type { CommandRun } from '../helpers/run-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ALLOWLIST = path.join(ROOT, 'test/fixtures/allowlists/inventory.yaml');
const HOMES = path.join(ROOT, 'test/fixtures/inventory');
const NOW = new Date('2026-12-01T12:00:00Z');
/** Every credential value planted below; none may reach stdout or stderr. */
const SECRET = /fixture-secret|ghp_PLANTED|PLANTED-VALUE/;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-inventory-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<CommandRun> {
  const run = await runCommand(runCli, args, { now: NOW, env: {} });
  expect(run.stdout + run.stderr).not.toMatch(SECRET);
  return run;
}

async function put(file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function scan(args: string[]): Promise<InventoryReport> {
  const run = await cli(['inventory', 'scan', ...args]);
  expect(run.code, run.stderr).toBe(0);
  const parsed = parseReport(JSON.parse(run.stdout));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.report;
}

async function saveReport(name: string, report: InventoryReport): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(report));
  return file;
}

/** Where each platform keeps the per-user application data, under a home folder. */
const APPDATA = {
  darwin: ['Library', 'Application Support'],
  win32: ['AppData', 'Roaming'],
  linux: ['.config'],
} as const;

/**
 * A home folder with one of each trouble, and one project folder: returns both. The approved
 * servers differ per platform only in where they are written.
 */
let homes = 0;
async function troubledHome(
  platform: keyof typeof APPDATA,
): Promise<{ home: string; project: string }> {
  homes += 1;
  const home = path.join(dir, `home-${platform}-${homes}`);
  const appdata = path.join(home, ...APPDATA[platform]);
  await put(
    path.join(appdata, 'Claude', 'claude_desktop_config.json'),
    JSON.stringify({
      mcpServers: {
        postgres: {
          command: '/opt/acme/bin/postgres-mcp',
          args: ['--readonly', '--database=analytics'],
          env: { PGPASSWORD: 'fixture-secret-pg' },
        },
        shadow: {
          command: 'npx',
          args: ['-y', 'shadow-mcp'],
          env: { GITHUB_TOKEN: 'ghp_PLANTED' },
        },
      },
    }),
  );
  // JSONC: comments and trailing commas, as VS Code writes and accepts them.
  await put(
    path.join(appdata, 'Code', 'User', 'mcp.json'),
    '{\n  // team servers\n  "servers": {\n    "linear": { "type": "sse", "url": "https://mcp.linear.app/sse?key=PLANTED-VALUE" }, /* ok */\n  },\n}\n',
  );
  await put(path.join(home, '.cursor', 'mcp.json'), '{"mcpServers": {"a": {"command": "x",}}}');
  await put(
    path.join(home, '.codeium', 'windsurf', 'mcp_config.json'),
    '{"mcpServers": ["not", "a", "map"]}',
  );
  await put(path.join(home, '.gemini', 'settings.json'), Buffer.alloc(2 * 1024 * 1024, 0x20));
  await mkdir(path.join(home, '.codex'), { recursive: true });
  await symlink(path.join(home, '.codex', 'loop-b'), path.join(home, '.codex', 'config.toml'));
  await symlink(path.join(home, '.codex', 'config.toml'), path.join(home, '.codex', 'loop-b'));
  const project = path.join(dir, `project-${platform}-${homes}`);
  await put(
    path.join(project, '.mcp.json'),
    JSON.stringify({
      mcpServers: {
        fs: {
          type: 'stdio',
          command: 'npx',
          args: [
            '-y',
            '@modelcontextprotocol/server-filesystem@2025.8.21',
            '/Users/alice/projects',
          ],
        },
      },
    }),
  );
  return { home, project };
}

describe('inventory scan on each platform', () => {
  test.each(['darwin', 'win32', 'linux'] as const)(
    '%s: every file reported, every trouble named, no value printed',
    async (platform) => {
      const { home, project } = await troubledHome(platform);
      const report = await scan([
        '--home',
        home,
        '--platform',
        platform,
        '--project',
        project,
        '--host',
        `m-${platform}`,
        '--user',
        'alice',
      ]);
      expect(report).toMatchObject({
        host: `m-${platform}`,
        user: 'alice',
        os: { platform },
        time: NOW.toISOString(),
      });
      const byClient = Object.fromEntries(
        report.configs.map((config) => [`${config.client}:${config.scope}`, config]),
      );
      const appdata = path.join(home, ...APPDATA[platform]);

      expect(byClient['claude-desktop:user']).toMatchObject({
        path: path.join(appdata, 'Claude', 'claude_desktop_config.json'),
        problems: [],
        servers: [
          { name: 'postgres', transport: 'stdio', env: ['PGPASSWORD'] },
          { name: 'shadow', command: 'npx', args: ['-y', 'shadow-mcp'], env: ['GITHUB_TOKEN'] },
        ],
      });
      expect(byClient['claude-desktop:user']?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(byClient['vscode:user']).toMatchObject({
        problems: [],
        servers: [{ name: 'linear', transport: 'sse', url: 'https://mcp.linear.app/sse' }],
      });
      expect(byClient['cursor:user']?.problems).toEqual([
        { kind: 'malformed', message: 'not valid JSON: unexpected "}"', line: 1, col: 38 },
      ]);
      expect(byClient['windsurf:user']?.problems).toMatchObject([
        { kind: 'unknown_shape', message: 'mcpServers is not an object of servers' },
      ]);
      expect(byClient['gemini-cli:user']).toMatchObject({
        sha256: null,
        size: 2 * 1024 * 1024,
        problems: [{ kind: 'too_large' }],
      });
      expect(byClient['codex:user']?.problems).toMatchObject([{ kind: 'symlink_loop' }]);
      expect(byClient['claude-code:project']).toMatchObject({
        path: path.join(project, '.mcp.json'),
        servers: [{ name: 'fs', transport: 'stdio' }],
      });
    },
  );

  test('--help, a bad --platform, and an unknown flag', async () => {
    expect((await cli(['inventory', 'scan', '--help'])).code).toBe(0);
    const bad = await cli(['inventory', 'scan', '--platform', 'plan9']);
    expect(bad).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--platform must be one of darwin, win32, linux'),
    });
    expect((await cli(['inventory', 'scan', '--homes', dir])).code).toBe(2);
    expect((await cli(['inventory'])).code).toBe(2);
    expect((await cli(['inventory', 'audit'])).code).toBe(2);
  });
});

describe('inventory check', () => {
  async function committedReports(): Promise<{ alice: string; bob: string }> {
    const alice = await scan([
      '--home',
      path.join(HOMES, 'alice-mac'),
      '--platform',
      'darwin',
      '--host',
      'alice-mbp',
      '--user',
      'alice',
    ]);
    const bob = await scan([
      '--home',
      path.join(HOMES, 'bob-linux'),
      '--platform',
      'linux',
      '--host',
      'bob-ws',
      '--user',
      'bob',
    ]);
    return { alice: await saveReport('alice', alice), bob: await saveReport('bob', bob) };
  }

  test('judges each server; lists what is not approved, on two machines, and its credential names', async () => {
    const { alice, bob } = await committedReports();
    const run = await cli(['inventory', 'check', alice, bob, '--allowlist', ALLOWLIST, '--json']);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout);
    expect(out.summary).toEqual({
      servers: 8,
      approved: 4,
      not_approved: 4,
      configs_with_problems: 0,
      config_changes: 0,
    });
    const verdicts = out.servers.map(
      (s: { host: string; name: string; verdict: string; entry: string | null }) => [
        s.host,
        s.name,
        s.verdict,
        s.entry,
      ],
    );
    expect(verdicts).toEqual([
      ['alice-mbp', 'postgres', 'approved', 'postgres-readonly'],
      // allowed_args holds /Users/$USER/projects; alice's report says /Users/alice/projects.
      ['alice-mbp', 'filesystem', 'approved', 'filesystem-projects'],
      ['alice-mbp', 'notes', 'unapproved', null],
      ['alice-mbp', 'linear', 'approved', 'linear'],
      ['alice-mbp', 'old-docs', 'expired', 'old-docs'],
      ['bob-ws', 'github', 'approved', 'github-official'],
      ['bob-ws', 'notes', 'unapproved', null],
      ['bob-ws', 'sentry', 'rotation', 'sentry'],
    ]);
    const notes = out.servers.filter((s: { name: string }) => s.name === 'notes');
    expect(notes.map((s: { credentials: string[] }) => s.credentials)).toEqual([
      ['NOTES_API_KEY'],
      ['NOTES_API_KEY'],
    ]);
    expect(out.widespread).toEqual([
      {
        key: 'stdio npx -y notes-mcp',
        machines: ['alice-mbp', 'bob-ws'],
        verdicts: ['unapproved'],
        count: 2,
      },
    ]);
    const text = await cli(['inventory', 'check', alice, bob, '--allowlist', ALLOWLIST]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('8 servers: 4 approved, 4 not approved;');
    expect(text.stdout).toContain('  2 machines  stdio npx -y notes-mcp  (unapproved)');
    expect(text.stdout).toContain('      credential-like names: SENTRY_TOKEN');
  });

  test('$USER is the report user: the same config under another user is not approved', async () => {
    const asBob = await scan([
      '--home',
      path.join(HOMES, 'alice-mac'),
      '--platform',
      'darwin',
      '--host',
      'shared-mac',
      '--user',
      'bob',
    ]);
    const run = await cli([
      'inventory',
      'check',
      await saveReport('as-bob', asBob),
      '--allowlist',
      ALLOWLIST,
      '--json',
    ]);
    const filesystem = JSON.parse(run.stdout).servers.find(
      (s: { name: string }) => s.name === 'filesystem',
    );
    expect(filesystem).toMatchObject({ verdict: 'unapproved', user: 'bob' });
  });

  test('expiry follows --now', async () => {
    const { alice } = await committedReports();
    const before = await cli([
      'inventory',
      'check',
      alice,
      '--allowlist',
      ALLOWLIST,
      '--json',
      '--now',
      '2026-06-30',
    ]);
    const oldDocs = JSON.parse(before.stdout).servers.find(
      (s: { name: string }) => s.name === 'old-docs',
    );
    expect(oldDocs.verdict).toBe('approved');
  });

  test('a config changed since the previous report of the machine is listed', async () => {
    const home = path.join(dir, 'changing-home');
    await cp(path.join(HOMES, 'alice-mac'), home, { recursive: true });
    const flags = [
      '--home',
      home,
      '--platform',
      'darwin',
      '--host',
      'alice-mbp',
      '--user',
      'alice',
    ];
    const before = await saveReport('before', await scan(flags));
    const cursor = path.join(home, '.cursor', 'mcp.json');
    await writeFile(cursor, (await readFile(cursor, 'utf8')).replace('old-docs', 'older-docs'));
    const after = await saveReport('after', await scan(flags));
    const run = await cli([
      'inventory',
      'check',
      after,
      '--previous',
      before,
      '--allowlist',
      ALLOWLIST,
      '--json',
    ]);
    expect(JSON.parse(run.stdout).config_changes).toMatchObject([
      { host: 'alice-mbp', user: 'alice', path: cursor, change: 'changed' },
    ]);
    const text = await cli([
      'inventory',
      'check',
      after,
      '--previous',
      before,
      '--allowlist',
      ALLOWLIST,
    ]);
    expect(text.stdout).toContain('Config changes since the previous reports:');
  });

  test('the troubled home: problems make the configs unverified, and check exits 1', async () => {
    const { home, project } = await troubledHome('linux');
    const report = await saveReport(
      'troubled',
      await scan([
        '--home',
        home,
        '--platform',
        'linux',
        '--project',
        project,
        '--host',
        't',
        '--user',
        'alice',
      ]),
    );
    const run = await cli(['inventory', 'check', report, '--allowlist', ALLOWLIST]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\.cursor\/mcp\.json:1:38: malformed: not valid JSON/);
    expect(run.stdout).toMatch(/settings\.json: too_large: larger than 1048576 bytes; not read/);
    expect(run.stdout).toMatch(/config\.toml: symlink_loop/);
    expect(run.stdout).toContain('credential-like names: GITHUB_TOKEN');
  });

  test('everything approved and read: exit 0', async () => {
    const home = path.join(dir, 'clean-home');
    await put(
      path.join(home, '.cursor', 'mcp.json'),
      JSON.stringify({ mcpServers: { l: { url: 'https://mcp.linear.app/mcp' } } }),
    );
    const report = await saveReport(
      'clean',
      await scan(['--home', home, '--platform', 'linux', '--host', 'c', '--user', 'u']),
    );
    const run = await cli(['inventory', 'check', report, '--allowlist', ALLOWLIST]);
    expect(run).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('1 server: 1 approved, 0 not approved;'),
    });
  });

  test('unreadable input and usage errors: exit 2, naming the file', async () => {
    const { alice } = await committedReports();
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{"format": "mcp-gate.inventory/v1",\n  "host": }');
    expect(await cli(['inventory', 'check', broken, '--allowlist', ALLOWLIST])).toMatchObject({
      code: 2,
      stderr: `${broken}:2:11 not valid JSON: unexpected "}"\n`,
    });
    const other = path.join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ format: 'something-else' }));
    expect((await cli(['inventory', 'check', other, '--allowlist', ALLOWLIST])).stderr).toMatch(
      new RegExp(
        `^${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an inventory report \\(format: `,
      ),
    );
    expect(
      (await cli(['inventory', 'check', path.join(dir, 'missing.json'), '--allowlist', ALLOWLIST]))
        .stderr,
    ).toMatch(/cannot read the report \(ENOENT\)/);
    const twice = await cli(['inventory', 'check', alice, alice, '--allowlist', ALLOWLIST]);
    expect(twice).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('two reports for "alice-mbp" user "alice"'),
    });
    expect((await cli(['inventory', 'check', alice])).code).toBe(2);
    expect((await cli(['inventory', 'check', '--allowlist', ALLOWLIST])).code).toBe(2);
    expect(
      (await cli(['inventory', 'check', alice, '--allowlist', ALLOWLIST, '--min-machines', '0']))
        .code,
    ).toBe(2);
    const invalid = path.join(dir, 'invalid-allowlist.yaml');
    await writeFile(invalid, 'version: 1\napproved: {}\n');
    const badAllowlist = await cli(['inventory', 'check', alice, '--allowlist', invalid]);
    expect(badAllowlist).toMatchObject({ code: 2, stderr: expect.stringContaining(`${invalid}:`) });
  });

  test('schema prints the report format as JSON Schema', async () => {
    const run = await cli(['inventory', 'schema']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'object', additionalProperties: false });
  });
});

test('the scanner entry runs from its dist/ files alone: no node_modules, no other package', async () => {
  const { files } = reachableFrom(readImportGraph(path.join(ROOT, 'src')), 'inventory-scan.ts');
  const shipped = path.join(dir, 'mdm-package');
  for (const file of files) {
    const js = file.replace(/\.ts$/, '.js');
    await put(path.join(shipped, 'dist', js), await readFile(path.join(ROOT, 'dist', js)));
  }
  const version = (
    JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version;
  await writeFile(path.join(shipped, 'package.json'), JSON.stringify({ type: 'module', version }));
  const run = async (): Promise<InventoryReport> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(shipped, 'dist', 'inventory-scan.js'),
        '--home',
        path.join(HOMES, 'bob-linux'),
        '--platform',
        'linux',
        '--host',
        'b',
        '--user',
        'bob',
      ],
      { cwd: shipped, env: { PATH: process.env['PATH'] ?? '' } },
    );
    expect(stdout).not.toMatch(SECRET);
    const parsed = parseReport(JSON.parse(stdout));
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.report;
  };
  const report = await run();
  expect(report.configs.map((config) => config.client)).toEqual(['vscode', 'codex']);
  expect(report.tool_version).toBe(version);
  // Shipped without package.json (Node reads the files as ES modules by their syntax): the
  // report still comes, and says it does not know its version.
  await rm(path.join(shipped, 'package.json'));
  expect((await run()).tool_version).toBe('unknown');
});
