/**
 * Reading one config file's bytes for the scan, bounded and without ever stopping it: every
 * failure is a FileProblem for that file, and the next location is read.
 *
 * Symbolic links are followed (dotfiles are often links into a dotfiles repository); a loop is
 * reported, as ELOOP. Only regular files are opened, and with O_NONBLOCK, so a FIFO left at a
 * config path cannot hang the scan. At most `maxBytes` + 1 bytes are read: a file above the cap
 * is `too_large`, whatever its size claimed at first.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileProblem } from './report.js';

/** What reading one location found. */
export type ConfigRead =
  /** Nothing there (also a dangling link, or a path through something that is not a folder). */
  | { readonly kind: 'absent' }
  | { readonly kind: 'read'; readonly bytes: Buffer }
  | { readonly kind: 'problem'; readonly problem: FileProblem; readonly size: number | null };

const ABSENT = new Set(['ENOENT', 'ENOTDIR']);
/** O_NONBLOCK is absent on Windows (where a FIFO is not a file anyway), whatever the types say. */
const NONBLOCK = (constants as Partial<typeof constants>).O_NONBLOCK ?? 0;

/** Reads the file at `file`, up to `maxBytes`. Never throws. */
export async function readConfigBytes(file: string, maxBytes: number): Promise<ConfigRead> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return notAFile(info.isDirectory() ? 'a directory' : 'not a regular file');
    if (info.size > maxBytes) return tooLarge(info.size, maxBytes);
    const handle = await open(file, constants.O_RDONLY | NONBLOCK);
    try {
      const opened = await handle.stat();
      if (!opened.isFile()) return notAFile('not a regular file');
      // Sized by what stat said, but read to the end: the file may have grown since.
      const chunks: Buffer[] = [];
      let length = 0;
      for (;;) {
        const chunk = Buffer.alloc(Math.min(maxBytes + 1 - length, Math.max(opened.size, 1) + 1));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        chunks.push(chunk.subarray(0, bytesRead));
        length += bytesRead;
        if (length > maxBytes) return tooLarge(length, maxBytes);
      }
      return { kind: 'read', bytes: Buffer.concat(chunks, length) };
    } finally {
      await handle.close();
    }
  } catch (err: unknown) {
    return readFailure(err);
  }
}

/** The outcome of a failed stat, open or read, by its error code. */
export function readFailure(err: unknown): ConfigRead {
  const code =
    typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
      ? err.code
      : 'UNKNOWN';
  if (ABSENT.has(code)) return { kind: 'absent' };
  switch (code) {
    case 'ELOOP':
      return problem('symlink_loop', 'a loop of symbolic links (ELOOP)');
    case 'EACCES':
    case 'EPERM':
      return problem('permission_denied', `not readable by this user (${code})`);
    case 'EISDIR':
      return notAFile('a directory');
    default:
      return problem('read_error', `could not be read (${code})`);
  }
}

function problem(
  kind: FileProblem['kind'],
  message: string,
  size: number | null = null,
): ConfigRead {
  return { kind: 'problem', problem: { kind, message, line: null, col: null }, size };
}

function notAFile(what: string): ConfigRead {
  return problem('not_a_file', `${what}, not a config file`);
}

function tooLarge(size: number, maxBytes: number): ConfigRead {
  return problem('too_large', `larger than ${maxBytes} bytes; not read`, size);
}
