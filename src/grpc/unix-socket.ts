/**
 * The file-system side of `--grpc-listen unix:/path`: what to do with a file already at the path
 * before binding, and the mode and group the socket gets after binding.
 *
 * - A socket left behind by a crash (SIGKILL, OOM kill: nothing ran to remove it) would make
 *   every restart fail with EADDRINUSE. It is removed, but only after a connection attempt is
 *   refused: if something accepts, another process serves there and stealing its path would
 *   silently cut it off from Envoy.
 * - Anything at the path that is not a socket (a config file, a directory from a wrong mount) is
 *   never removed.
 * - The mode and group let an Envoy running as another user connect (a shared group and 0660)
 *   without making the socket world-writable.
 */
import { chmod, chown, lstat, readFile, stat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';

/** A problem with the socket path or its ownership; the message is meant for the operator. */
export class UnixSocketError extends Error {
  override readonly name = 'UnixSocketError';
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Makes `socketPath` bindable: checks that its directory exists, and removes a stale socket (one
 * nobody accepts on). Throws UnixSocketError when something listens there, when the path is not
 * a socket, or when the directory is missing.
 */
export async function claimUnixSocketPath(socketPath: string): Promise<void> {
  const dir = path.dirname(path.resolve(socketPath));
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UnixSocketError(`${dir} is not a directory`);
  } catch (err: unknown) {
    if (err instanceof UnixSocketError) throw err;
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') {
      throw new UnixSocketError(
        `directory ${dir} does not exist (for the gRPC socket ${socketPath})`,
      );
    }
    throw new UnixSocketError(`cannot use directory ${dir}: ${(err as Error).message}`);
  }

  let existing;
  try {
    existing = await lstat(socketPath);
  } catch (err: unknown) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new UnixSocketError(`cannot inspect ${socketPath}: ${(err as Error).message}`);
  }
  if (!existing.isSocket()) {
    throw new UnixSocketError(
      `${socketPath} exists and is not a socket; not removing it (choose another --grpc-listen path)`,
    );
  }
  if (await somethingAccepts(socketPath)) {
    throw new UnixSocketError(
      `another process listens on ${socketPath}; not replacing its socket (stop it or choose another path)`,
    );
  }
  try {
    await unlink(socketPath);
  } catch (err: unknown) {
    // Removed in between (another starting instance): the path is free all the same.
    if (errnoCode(err) !== 'ENOENT') {
      throw new UnixSocketError(
        `cannot remove stale socket ${socketPath}: ${(err as Error).message}`,
      );
    }
  }
}

/**
 * True when a connection to the socket is accepted; false when it is refused (nobody listens:
 * the socket is stale). Other failures (EACCES) are reported: they say nothing about staleness.
 */
function somethingAccepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (err.code === 'ECONNREFUSED') resolve(false);
      else
        reject(new UnixSocketError(`cannot tell whether ${socketPath} is in use: ${err.message}`));
    });
  });
}

/** Resolves `--grpc-socket-group` (a name from /etc/group, or a numeric gid) to a gid. */
export async function resolveGroup(group: string, groupFile = '/etc/group'): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  let text: string;
  try {
    text = await readFile(groupFile, 'utf8');
  } catch (err: unknown) {
    throw new UnixSocketError(
      `cannot read ${groupFile} to resolve group ${JSON.stringify(group)}: ${(err as Error).message}`,
    );
  }
  // name:password:gid:members, one group a line (group(5)).
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new UnixSocketError(`group ${JSON.stringify(group)} is not in ${groupFile}`);
}

/** Sets the bound socket's mode and group; throws UnixSocketError naming what failed. */
export async function applySocketOwnership(
  socketPath: string,
  options: { readonly mode: number | undefined; readonly gid: number | undefined },
): Promise<void> {
  if (options.gid !== undefined) {
    try {
      // -1 keeps the owner: only the group changes.
      await chown(socketPath, -1, options.gid);
    } catch (err: unknown) {
      throw new UnixSocketError(
        `cannot set group ${options.gid} on ${socketPath}: ${(err as Error).message}`,
      );
    }
  }
  if (options.mode !== undefined) {
    try {
      await chmod(socketPath, options.mode);
    } catch (err: unknown) {
      throw new UnixSocketError(
        `cannot set mode ${options.mode.toString(8).padStart(4, '0')} on ${socketPath}: ${(err as Error).message}`,
      );
    }
  }
}
