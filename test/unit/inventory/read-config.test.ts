import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readConfigBytes, readFailure } from '../../../src/inventory/read-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-read-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kindOf = (read: Awaited<ReturnType<typeof readConfigBytes>>): string =>
  read.kind === 'problem' ? read.problem.kind : read.kind;

describe('readConfigBytes', () => {
  test('a file up to the cap is read whole; one byte more is too_large, with its size', async () => {
    const file = path.join(dir, 'cap.json');
    await writeFile(file, 'x'.repeat(100));
    const read = await readConfigBytes(file, 100);
    expect(read.kind === 'read' ? read.bytes.toString() : read).toBe('x'.repeat(100));
    expect(await readConfigBytes(file, 99)).toMatchObject({
      kind: 'problem',
      size: 100,
      problem: { kind: 'too_large', message: 'larger than 99 bytes; not read' },
    });
  });

  test('an empty file is read (as zero bytes)', async () => {
    const file = path.join(dir, 'empty.json');
    await writeFile(file, '');
    const read = await readConfigBytes(file, 10);
    expect(read.kind === 'read' ? read.bytes.length : read).toBe(0);
  });

  test('absent: no file, a dangling link, a path through a file', async () => {
    await writeFile(path.join(dir, 'plain'), '{}');
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    for (const file of ['missing.json', 'dangling', 'plain/below.json']) {
      expect(kindOf(await readConfigBytes(path.join(dir, file), 10))).toBe('absent');
    }
  });

  test('a link is followed; a loop of links is symlink_loop', async () => {
    await writeFile(path.join(dir, 'target.json'), '{"a":1}');
    await symlink(path.join(dir, 'target.json'), path.join(dir, 'link.json'));
    await symlink(path.join(dir, 'loop-b'), path.join(dir, 'loop-a'));
    await symlink(path.join(dir, 'loop-a'), path.join(dir, 'loop-b'));
    expect(kindOf(await readConfigBytes(path.join(dir, 'link.json'), 10))).toBe('read');
    expect(await readConfigBytes(path.join(dir, 'loop-a'), 10)).toMatchObject({
      kind: 'problem',
      problem: { kind: 'symlink_loop', line: null, col: null },
    });
  });

  test('a directory, and a FIFO nobody writes to (which must not hang the scan), are not_a_file', async () => {
    await mkdir(path.join(dir, 'folder.json'));
    expect(kindOf(await readConfigBytes(path.join(dir, 'folder.json'), 10))).toBe('not_a_file');
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(kindOf(await readConfigBytes(fifo, 10))).toBe('not_a_file');
  });
});

test.each([
  ['ENOENT', 'absent'],
  ['ENOTDIR', 'absent'],
  ['ELOOP', 'symlink_loop'],
  ['EACCES', 'permission_denied'],
  ['EPERM', 'permission_denied'],
  ['EISDIR', 'not_a_file'],
  ['EIO', 'read_error'],
])('readFailure: %s is %s', (code, kind) => {
  const err = Object.assign(new Error('x'), { code });
  expect(kindOf(readFailure(err))).toBe(kind);
});

test('readFailure names the code of an unexpected error, and survives a non-error', () => {
  expect(readFailure(Object.assign(new Error('x'), { code: 'EIO' }))).toMatchObject({
    problem: { message: 'could not be read (EIO)' },
  });
  expect(kindOf(readFailure('boom'))).toBe('read_error');
});
