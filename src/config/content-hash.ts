/**
 * The identity of the allowlist content on disk: SHA-256 over the allowlist's bytes, a NUL, and
 * the known-host file's bytes (none when there is no such file), and, when a reviewers' trust
 * file is configured, another NUL and its bytes. loadPolicyData takes the same digest of the
 * decoded texts (identical bytes for the valid UTF-8 it accepts), so the store can
 * tell "unchanged" on its own thread, by streaming the files through the hash, without waking the
 * loader thread for every poll.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The files in the order the digest takes them; undefined ones are absent. */
export interface PolicyFiles<T> {
  readonly allowlist: T;
  readonly knownHosts: T | undefined;
  readonly reviewers: T | undefined;
}

/**
 * The digest's one definition: the allowlist, a NUL, the known-host list, and, when there is a
 * trust file, a NUL and its bytes. `feed` puts one file's bytes in, from disk or from memory.
 */
async function digestOf<T>(
  files: PolicyFiles<T>,
  feed: (hash: Hash, file: T) => Promise<void> | void,
): Promise<string> {
  const hash = createHash('sha256');
  await feed(hash, files.allowlist);
  hash.update('\0');
  if (files.knownHosts !== undefined) await feed(hash, files.knownHosts);
  if (files.reviewers !== undefined) {
    hash.update('\0');
    await feed(hash, files.reviewers);
  }
  return hash.digest('hex');
}

async function feedFile(hash: Hash, path: string): Promise<void> {
  // Only regular files: opening a FIFO would wait for a writer. The loader explains the rest.
  if (!(await stat(path)).isFile()) throw new Error(`${path} is not a regular file`);
  // Chunk by chunk: a large allowlist never holds the event loop for the whole digest.
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** The digest of the files on disk, or undefined when one cannot be read (the loader then reports why). */
export async function policyContentHash(
  allowlistPath: string,
  knownHostsPath: string | undefined,
  reviewersPath?: string,
): Promise<string | undefined> {
  try {
    return await digestOf(
      { allowlist: allowlistPath, knownHosts: knownHostsPath, reviewers: reviewersPath },
      feedFile,
    );
  } catch {
    return undefined;
  }
}

/** The same digest of texts already read (loadPolicyData's decoded files). */
export function policyTextHash(texts: PolicyFiles<string>): Promise<string> {
  return digestOf(texts, (hash, text) => {
    hash.update(text);
  });
}
