import {
  chmod,
  copyFile,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runStamp } from '../../../src/cli/stamp.js';
import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { runCommand } from '../../helpers/run-command.js';
import type { CommandRun } from '../../helpers/run-command.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/allowlists');
const NOW = new Date('2026-11-21T12:00:00Z');

function run(args: string[]): Promise<CommandRun> {
  return runCommand(runStamp, args, { now: NOW });
}

describe('mcp-gate stamp', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gate-stamp-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function copy(name: string): Promise<string> {
    const path = join(dir, name);
    await copyFile(join(FIXTURES, name), path);
    return path;
  }

  test('stamps every entry in place, keeps permissions, leaves no temp file', async () => {
    const path = await copy('stamp-commented.yaml');
    await chmod(path, 0o640);
    const { code, stdout, stderr } = await run([path]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe(
      `stamped github-official\nstamped linear\nstamped postgres-readonly\n${path}: 3 stamped, 0 already current\n`,
    );
    const result = parseAllowlist(await readFile(path, 'utf8'), { fileName: path, now: NOW });
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([]);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['stamp-commented.yaml']);
  });

  test('--id stamps one entry; running again changes nothing', async () => {
    const path = await copy('stamp-commented.yaml');
    const first = await run([path, '--id', 'linear']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`stamped linear\n${path}: 1 stamped, 0 already current\n`);
    const again = await run(['--id', 'linear', path]);
    expect(again.stdout).toBe(
      `unchanged linear (stamp already current)\n${path}: 0 stamped, 1 already current\n`,
    );
  });

  test('an unknown id: exit 1, file untouched', async () => {
    const path = await copy('valid-minimal.yaml');
    const before = await readFile(path, 'utf8');
    const { code, stderr } = await run([path, '--id', 'nope']);
    expect(code).toBe(1);
    expect(stderr).toBe(`${path}: not stamped: no entry with id "nope"\n`);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  test('an invalid file is refused: its errors as FILE:LINE:COL message, exit 1', async () => {
    const path = await copy('invalid-http-without-host.yaml');
    const before = await readFile(path, 'utf8');
    const { code, stdout, stderr } = await run([path]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `${path}:4:5 approved[0]: missing required key "host" (every http entry needs one)\n` +
        `${path}: not stamped: the allowlist is invalid\n`,
    );
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  test('through a symlink: the link stays, its target is stamped', async () => {
    const target = await copy('valid-minimal.yaml');
    // The fixture is stamped; without its stamp the target must really be replaced.
    const unstamped = (await readFile(target, 'utf8')).replace(/^ {4}review_sha256: .*\n/m, '');
    await writeFile(target, unstamped);
    const link = join(dir, 'link.yaml');
    await symlink(target, link);
    const { code, stdout } = await run([link]);
    expect(code).toBe(0);
    expect(stdout).toBe(`stamped linear\n${link}: 1 stamped, 0 already current\n`);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(target, 'utf8')).toMatch(/review_sha256: [0-9a-f]{64}\n$/);
  });

  test('usage errors exit 2; --help exits 0', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['a.yaml', 'b.yaml'])).code).toBe(2);
    expect((await run(['a.yaml', '--all'])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: mcp-gate stamp FILE [--id ID]');
  });

  test('a missing file: exit 1 with FILE:1:1', async () => {
    const path = join(dir, 'none.yaml');
    const { code, stderr } = await run([path]);
    expect(code).toBe(1);
    expect(stderr).toBe(`${path}:1:1 cannot read file: no such file (ENOENT)\n`);
  });
});
