/**
 * Listen addresses as the flags take them: `host:port`, `[v6]:port` or `unix:/path`. Here rather
 * than in config/ so that the gRPC server, the cluster primary and the service read an address
 * the one way, without depending on the service configuration.
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

/** The file path of a `unix:` listen address, undefined for TCP. */
export function unixSocketPath(address: string): string | undefined {
  if (!address.startsWith('unix:')) return undefined;
  // unix:/abs, unix:rel and unix:///abs, as grpc-js and Envoy's grpc clients spell them.
  return address.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
}

/** Whether `value` is an address to listen on; `unix:` forms only where `allowUnix`. */
export function isListenAddress(value: string, allowUnix: boolean): boolean {
  const socketPath = allowUnix ? unixSocketPath(value) : undefined;
  if (socketPath !== undefined) return socketPath.length > 0;
  return splitHostPort(value) !== undefined;
}

/** `listen` as bound: a TCP address with the port the system gave (for `:0`), a socket as is. */
export function boundAddress(listen: string, port: number): string {
  const parsed = splitHostPort(listen);
  if (parsed === undefined) return listen;
  const host = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
  return `${host}:${port}`;
}
