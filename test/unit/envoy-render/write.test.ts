import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { writeRenderedFiles } from '../../../src/envoy-render/write.js';
import { readTree } from '../../helpers/rendered-envoy.js';

const FIRST = new Map([
  ['sds/a.example.yaml', 'secret a\n'],
  ['sds/b.example.yaml', 'secret b\n'],
  ['cds.yaml', 'clusters 1\n'],
  ['lds.yaml', 'listeners 1\n'],
  ['certificates.yaml', 'certificates 1\n'],
]);

describe('writeRenderedFiles', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-write-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every file, leaving no temporary file behind', async () => {
    const summary = await writeRenderedFiles(dir, FIRST);
    expect(summary).toEqual({ written: [...FIRST.keys()], removed: [] });
    expect(await readTree(dir)).toEqual(new Map([...FIRST].sort(([a], [b]) => (a < b ? -1 : 1))));
    const names = [...(await readdir(dir)), ...(await readdir(path.join(dir, 'sds')))];
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves unchanged files alone and replaces changed ones by rename, never in place', async () => {
    await writeRenderedFiles(dir, FIRST);
    const before = {
      cds: (await stat(path.join(dir, 'cds.yaml'))).ino,
      lds: (await stat(path.join(dir, 'lds.yaml'))).ino,
    };
    const second = new Map(FIRST).set('lds.yaml', 'listeners 2\n');
    const summary = await writeRenderedFiles(dir, second);
    expect(summary.written).toEqual(['lds.yaml']);
    // Same inode: not touched, so Envoy sees no move for it. New inode: a whole new file.
    expect((await stat(path.join(dir, 'cds.yaml'))).ino).toBe(before.cds);
    expect((await stat(path.join(dir, 'lds.yaml'))).ino).not.toBe(before.lds);
    expect((await readTree(dir)).get('lds.yaml')).toBe('listeners 2\n');
  });

  it('removes the secrets and certificate requests of hosts no longer rendered, last', async () => {
    await writeRenderedFiles(dir, FIRST);
    await writeFile(path.join(dir, 'README'), 'not ours\n');
    const smaller = new Map(FIRST);
    smaller.delete('sds/b.example.yaml');
    smaller.delete('certificates.yaml');
    const summary = await writeRenderedFiles(dir, smaller);
    expect(summary).toEqual({ written: [], removed: ['sds/b.example.yaml', 'certificates.yaml'] });
    expect([...(await readTree(dir)).keys()]).toEqual([
      'README',
      'cds.yaml',
      'lds.yaml',
      'sds/a.example.yaml',
    ]);
  });

  it('throws when the directory cannot be written', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(writeRenderedFiles(path.join(file, 'out'), FIRST)).rejects.toThrow(/ENOTDIR/);
  });
});
