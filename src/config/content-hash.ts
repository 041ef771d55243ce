/**
 * The identity of the allowlist content on disk: SHA-256 over the allowlist's bytes, a NUL, and
 * the known-host file's bytes (none when there is no such file), and, when a reviewers' trust
 * file is configured, another NUL and its bytes. loadPolicyData computes the same
 * digest from the decoded texts (identical bytes for the valid UTF-8 it accepts), so the store can
 * tell "unchanged" on its own thread, by streaming the files through the hash, without waking the
 * loader thread for every poll.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

async function feed(hash: Hash, path: string): Promise<void> {
  // Only regular files: opening a FIFO would wait for a writer. The loader explains the rest.
  if (!(await stat(path)).isFile()) throw new Error(`${path} is not a regular file`);
  // Chunk by chunk: a large allowlist never holds the event loop for the whole digest.
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** The digest, or undefined when a file cannot be read (the loader then reports why). */
export async function policyContentHash(
  allowlistPath: string,
  knownHostsPath: string | undefined,
  reviewersPath?: string,
): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    await feed(hash, allowlistPath);
    hash.update('\0');
    if (knownHostsPath !== undefined) await feed(hash, knownHostsPath);
    if (reviewersPath !== undefined) {
      hash.update('\0');
      await feed(hash, reviewersPath);
    }
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}
