/**
 * `host:port` addresses as the flags take them. Here rather than in config/ so that the gRPC
 * server, the cluster primary and the service can read an address without depending on the
 * service configuration.
 */

/** Splits `host:port` / `[v6]:port`; undefined when it is not of that form. */
export function splitHostPort(value: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(value);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
