/**
 * Reading a policy file from disk: only a regular file of bounded size, decoded as strict UTF-8
 * (invalid bytes are an error, a BOM is kept), so the text's UTF-8 encoding, and so its
 * SHA-256, is exactly the file's bytes. A file that cannot be read becomes an Issue at 1:1.
 * Also the look at a file's top level that tells `mcp-gate validate` which kind it is.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Issue } from './config-issues.js';
import { isRecord, parseYamlSource } from './yaml-source.js';

/** The text of a configuration file, or an Issue at 1:1 saying why it cannot be read. */
export type ReadResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: Issue };

const READ_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
};

/** Far beyond any real allowlist (10,000 entries are about 3 MB); a stray huge file is refused. */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads a configuration file as strict UTF-8 (invalid bytes are an error rather than U+FFFD,
 * and a BOM is kept), so the text's UTF-8 encoding is exactly the file's bytes. Only regular
 * files (or symlinks to one) up to MAX_CONFIG_FILE_BYTES are read: a FIFO or device would block
 * or never end.
 */
export async function readConfigFile(path: string): Promise<ReadResult> {
  const fail = (message: string): ReadResult => ({
    ok: false,
    error: { line: 1, col: 1, message: `cannot read file: ${message}` },
  });
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (info.isDirectory()) return fail('is a directory, not a file (EISDIR)');
    if (!info.isFile()) return fail('not a regular file');
    if (info.size > MAX_CONFIG_FILE_BYTES) {
      return fail(`larger than ${String(MAX_CONFIG_FILE_BYTES / 1024 / 1024)} MiB`);
    }
    bytes = await readFile(path);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const why = READ_PROBLEMS[code] ?? 'read failed';
    return fail(`${why} (${code})`);
  }
  try {
    return {
      ok: true,
      text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes),
    };
  } catch {
    return fail('it is not valid UTF-8');
  }
}

/**
 * Whether `text` looks like another policy file than an allowlist: its top level is a mapping
 * with `key` and without `approved` (judged on the lines alone when it is not valid YAML).
 * `mcp-gate validate` uses it to pick the checker.
 */
export function looksLikeFileOf(text: string, key: string): boolean {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) return new RegExp(`^${key}\\s*:`, 'm').test(text) && !/^approved\s*:/m.test(text);
  const value = yaml.value;
  return isRecord(value) && key in value && !('approved' in value);
}

/** SHA-256 (hex) of the UTF-8 bytes of `text`. */
export function sha256OfText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
