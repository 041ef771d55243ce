/**
 * Egress stand-in: an HTTP/1.1 explicit forward proxy that does what `mcp-gate render-envoy`'s
 * egress configuration tells Envoy to do (src/envoy-render/resources.ts), for end-to-end tests
 * of TLS interception where no Envoy binary exists. It is built on envoy-emulator.ts: the same
 * ext_authz filter, CheckRequest building and router, so every Check here is what that emulator
 * would send, and is decoded from Envoy's own protos.
 *
 * What it models, each as the rendered resources say (and docs/wire/envoy-ext-authz.md):
 * - The explicit-proxy route table (rds.yaml): a CONNECT whose authority is a virtual host of an
 *   intercepted `host:port` (a `connect_matcher` route with ext_authz disabled, to an internal
 *   listener's cluster) gets no Check and `200`, and its bytes go to that interception listener.
 *   Every other CONNECT gets a headers-only Check as Envoy builds it (its "CONNECT and
 *   absolute-form requests": method CONNECT, `:authority` `host:port`, no `:path`, `:scheme`
 *   http, no body since buffering is disabled on that route); a denial is the local reply on the
 *   CONNECT (then the connection closes), an allow is `200` and a raw TCP tunnel to the resolved
 *   host. Plain absolute-form `http://`
 *   requests are checked with their body and forwarded, as envoy-emulator.ts does.
 * - The interception listener (lds.yaml): the filter chain is chosen by SNI from
 *   `filter_chain_match.server_names` (exact, then `*.` suffixes, longest first); no chain
 *   matching (or no SNI) closes the connection, as Envoy does without a default chain. The chain
 *   terminates TLS with its SDS certificate files (sds/<name>.yaml → tls.crt/tls.key), reads the
 *   decrypted HTTP/1.1 requests (keep-alive, several per connection), answers an authority
 *   outside the chain's virtual-host domains with the rendered 421 direct response and no Check,
 *   and checks every other request with ext_authz and its body (`:scheme` https,
 *   `destination.principal` the served certificate's first DNS SAN, `tls_session.sni` when the
 *   filter sets `include_tls_session`).
 * - The upstream leg (cds.yaml): an allowed request is re-encrypted to the real host: the
 *   cluster's address and port through the test resolver (test names do not resolve), SNI the
 *   cluster's `sni` (or the request's host for the dynamic forward proxy's auto_sni), and the
 *   server's certificate verified against the cluster's `trusted_ca` (render-envoy
 *   `--ca-bundle`) with the host name checked (Node's checkServerIdentity, as
 *   `match_typed_subject_alt_names`/auto_san_validation do). Any TLS failure is Envoy's 503
 *   local reply: fail closed. Responses stream back (SSE works).
 * - The HCM's `normalize_path` and `merge_slashes` as the rendered HCM sets them, before the
 *   Check and on the upstream request (`normaliseEnvoyPath`; the outer listener, whose HCM is in
 *   the envoy/ bootstrap rather than the rendered files, is given the same settings).
 *
 * Not modelled: HTTP/2 on either side (the stand-in offers and asks only `http/1.1` in ALPN;
 * the rendered chains offer `h2` too), the tls_inspector's reading of the ClientHello (node's
 * SNICallback stands in), Envoy's TLS defaults (versions, ciphers), Chromium's rarer path rules
 * (uppercasing escapes, a request refused as uncanonicalisable), timeouts, buffer limits,
 * access logs, the transparent (SNI) listener and its network ext_authz, xDS reloading (the
 * rendered files are read once), WebSocket upgrades, and DNS (a resolver map).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

import { parse as parseYaml } from 'yaml';

import type {
  BufferSettings,
  CheckRecord,
  EnvoyStream,
  FilterVerdict,
  Forward,
  HeaderEntry,
} from './envoy-emulator.js';
import {
  closeHttpServer,
  createExtAuthzFilter,
  forwardUpstream,
  listenOnLoopback,
  localReplyHeaders,
  toEnvoyHeaders,
  toEnvoyStream,
} from './envoy-emulator.js';
import { RecordedList } from './recorded-list.js';

// ---------------------------------------------------------------------------------------------
// What the rendered configuration says
// ---------------------------------------------------------------------------------------------

/** Where one interception chain sends allowed requests. */
export type InterceptUpstream =
  | {
      /** A cluster of its own (an exact host): fixed address, SNI and SAN. */
      readonly kind: 'exact';
      readonly host: string;
      readonly port: number;
      readonly sni: string;
      /** The cluster's `trusted_ca`, PEM. */
      readonly trustedCa: string;
    }
  | {
      /** The dynamic forward proxy (a wildcard pattern): the request's host, auto_sni. */
      readonly kind: 'dynamic';
      readonly port: number;
      readonly trustedCa: string;
    };

/** One filter chain of an interception listener. */
export interface InterceptChain {
  readonly name: string;
  /** `filter_chain_match.server_names`. */
  readonly serverNames: readonly string[];
  /** The certificate (chain) and key Envoy serves, from the SDS secret's files. */
  readonly certPem: string;
  readonly keyPem: string;
  /** Domains of the virtual host that is checked and routed; others get the 421 reply. */
  readonly domains: readonly string[];
  readonly upstream: InterceptUpstream;
}

/** The egress configuration the stand-in enacts. */
export interface EgressConfig {
  /**
   * Virtual-host domain of an intercept route (`host:port` or `*.suffix:port`, lower case) → the
   * chains of the listener its CONNECTs are sent to. See `interceptedChains` for the matching.
   */
  readonly intercepted: ReadonlyMap<string, readonly InterceptChain[]>;
  /** ext_authz `with_request_body` (the rendered filter is the same on every HCM). */
  readonly withRequestBody: BufferSettings | undefined;
  /** ext_authz `include_tls_session`. */
  readonly includeTlsSession: boolean;
  /** The HCM's `normalize_path` and `merge_slashes` (render-envoy sets both on every HCM). */
  readonly paths: PathNormalisation;
}

/** The HCM's path settings the stand-in applies before the Check, as Envoy does. */
export interface PathNormalisation {
  readonly normalize: boolean;
  readonly mergeSlashes: boolean;
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The `resources` of one path_config_source file. */
async function readResources(file: string): Promise<Json[]> {
  const doc: unknown = parseYaml(await readFile(file, 'utf8'));
  return list(obj(doc)['resources']).map(obj);
}

function byName(resources: readonly Json[]): Map<string, Json> {
  return new Map(resources.map((r) => [text(r['name']), r]));
}

function extAuthzDisabled(route: Json): boolean {
  const perFilter = obj(obj(route['typed_per_filter_config'])['envoy.filters.http.ext_authz']);
  return perFilter['disabled'] === true;
}

/** The HCM of a filter chain. */
function connectionManager(chain: Json): Json {
  const hcm = list(chain['filters'])
    .map(obj)
    .find((f) => text(f['name']) === 'envoy.filters.network.http_connection_manager');
  return obj(hcm?.['typed_config']);
}

function extAuthzSettings(hcm: Json): { body: BufferSettings | undefined; tlsSession: boolean } {
  const filter = list(hcm['http_filters'])
    .map(obj)
    .find((f) => text(f['name']) === 'envoy.filters.http.ext_authz');
  const config = obj(filter?.['typed_config']);
  const body = obj(config['with_request_body']);
  return {
    body:
      config['with_request_body'] === undefined
        ? undefined
        : {
            maxRequestBytes: Number(body['max_request_bytes']),
            allowPartialMessage: body['allow_partial_message'] === true,
            packAsBytes: body['pack_as_bytes'] === true,
          },
    tlsSession: config['include_tls_session'] === true,
  };
}

export interface LoadRenderedOptions {
  /**
   * Maps a file name written in the rendered config (an absolute path inside the Envoy
   * container) to one on this machine. @default the name as written
   */
  readonly mapPath?: (file: string) => string;
}

/**
 * Reads what the stand-in needs from render-envoy's output directory: lds.yaml, cds.yaml,
 * rds.yaml and sds/<name>.yaml (the SDS files are looked up in `dir/sds` by their base name, so
 * the rendered `--dynamic-dir` need not exist here), and the certificate files they name.
 */
export async function loadRenderedEgress(
  dir: string,
  options: LoadRenderedOptions = {},
): Promise<EgressConfig> {
  const mapPath = options.mapPath ?? ((file: string) => file);
  const [listeners, clusters, routeConfigs] = await Promise.all([
    readResources(path.join(dir, 'lds.yaml')).then(byName),
    readResources(path.join(dir, 'cds.yaml')).then(byName),
    readResources(path.join(dir, 'rds.yaml')),
  ]);
  let settings: ReturnType<typeof extAuthzSettings> = { body: undefined, tlsSession: false };
  let paths: PathNormalisation = { normalize: false, mergeSlashes: false };
  const chainsOfListener = new Map<string, InterceptChain[]>();

  const readChain = async (chain: Json): Promise<InterceptChain> => {
    const hcm = connectionManager(chain);
    settings = extAuthzSettings(hcm);
    paths = {
      normalize: hcm['normalize_path'] === true,
      mergeSlashes: hcm['merge_slashes'] === true,
    };
    const tlsContext = obj(obj(chain['transport_socket'])['typed_config']);
    const sdsConfigs = list(
      obj(tlsContext['common_tls_context'])['tls_certificate_sds_secret_configs'],
    );
    const sds = obj(sdsConfigs[0]);
    const sdsFile = text(obj(obj(sds['sds_config'])['path_config_source'])['path']);
    const secrets = await readResources(path.join(dir, 'sds', path.basename(sdsFile)));
    const secret = secrets.find((s) => text(s['name']) === text(sds['name']));
    const certificate = obj(secret?.['tls_certificate']);
    const [certPem, keyPem] = await Promise.all([
      readFile(mapPath(text(obj(certificate['certificate_chain'])['filename'])), 'utf8'),
      readFile(mapPath(text(obj(certificate['private_key'])['filename'])), 'utf8'),
    ]);
    const virtualHost = list(obj(hcm['route_config'])['virtual_hosts'])
      .map(obj)
      .find((vh) => list(vh['routes']).some((r) => obj(obj(r)['route'])['cluster'] !== undefined));
    const route = obj(list(virtualHost?.['routes']).map(obj)[0]?.['route']);
    const cluster = obj(clusters.get(text(route['cluster'])));
    const endpoint = obj(
      obj(
        obj(list(obj(list(obj(cluster['load_assignment'])['endpoints'])[0])['lb_endpoints'])[0])[
          'endpoint'
        ],
      )['address'],
    );
    const socket = obj(endpoint['socket_address']);
    const upstreamTls = obj(obj(cluster['transport_socket'])['typed_config']);
    const validation = obj(obj(upstreamTls['common_tls_context'])['validation_context']);
    const trustedCa = await readFile(
      mapPath(text(obj(validation['trusted_ca'])['filename'])),
      'utf8',
    );
    const domains = list(virtualHost?.['domains']).map(text);
    const upstream: InterceptUpstream =
      socket['address'] === undefined
        ? { kind: 'dynamic', port: portOfDomains(domains), trustedCa }
        : {
            kind: 'exact',
            host: text(socket['address']),
            port: Number(socket['port_value']),
            sni: text(upstreamTls['sni']),
            trustedCa,
          };
    return {
      name: text(chain['name']),
      serverNames: list(obj(chain['filter_chain_match'])['server_names']).map(text),
      certPem,
      keyPem,
      domains,
      upstream,
    };
  };

  const listenerOfCluster = (clusterName: string): string => {
    const endpoint = obj(
      obj(
        obj(
          list(
            obj(list(obj(obj(clusters.get(clusterName))['load_assignment'])['endpoints'])[0])[
              'lb_endpoints'
            ],
          )[0],
        )['endpoint'],
      )['address'],
    );
    return text(obj(endpoint['envoy_internal_address'])['server_listener_name']);
  };

  const intercepted = new Map<string, readonly InterceptChain[]>();
  for (const routeConfig of routeConfigs) {
    for (const virtualHost of list(routeConfig['virtual_hosts']).map(obj)) {
      const connect = list(virtualHost['routes'])
        .map(obj)
        .find((r) => obj(r['match'])['connect_matcher'] !== undefined);
      if (connect === undefined || !extAuthzDisabled(connect)) continue;
      const listenerName = listenerOfCluster(text(obj(connect['route'])['cluster']));
      let chains = chainsOfListener.get(listenerName);
      if (chains === undefined) {
        const listener = listeners.get(listenerName);
        if (listener === undefined) {
          throw new Error(`rds.yaml sends CONNECTs to ${listenerName}, which lds.yaml lacks`);
        }
        chains = await Promise.all(list(listener['filter_chains']).map(obj).map(readChain));
        chainsOfListener.set(listenerName, chains);
      }
      for (const domain of list(virtualHost['domains']).map(text)) {
        intercepted.set(domain.toLowerCase(), chains);
      }
    }
  }
  return {
    intercepted,
    withRequestBody: settings.body,
    includeTlsSession: settings.tlsSession,
    paths,
  };
}

/** The port a chain's domains name (`host:port`), 443 when none does. */
function portOfDomains(domains: readonly string[]): number {
  for (const domain of domains) {
    const match = /:(\d+)$/.exec(domain);
    if (match !== null) return Number(match[1]);
  }
  return 443;
}

// ---------------------------------------------------------------------------------------------
// Envoy's path normalisation and matching rules
// ---------------------------------------------------------------------------------------------

/** `.` or `..` as Chromium's path canonicaliser reads a segment (`%2e` is a dot, any case). */
function dotCount(segment: string): number {
  const dots = segment.replace(/%2e/gi, '.');
  return dots === '.' ? 1 : dots === '..' ? 2 : 0;
}

/**
 * The HCM's `normalize_path` (Chromium's CanonicalizePath, which Envoy's PathUtil calls: `\` is a
 * separator, dot segments resolve, bytes outside printable ASCII are percent-encoded, other
 * escapes, `%2F` included, stay as written) and then `merge_slashes`, on the path before `?`.
 */
export function normaliseEnvoyPath(target: string, settings: PathNormalisation): string {
  const queryAt = target.indexOf('?');
  let pathPart = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt);
  if (settings.normalize) {
    const out: string[] = [];
    const segments = pathPart.replace(/\\/g, '/').split('/').slice(1);
    segments.forEach((segment, i) => {
      const dots = dotCount(segment);
      if (dots === 2) out.pop();
      if (dots > 0) {
        // A dot segment at the end leaves the directory: `/a/b/..` is `/a/`.
        if (i === segments.length - 1) out.push('');
        return;
      }
      out.push(segment);
    });
    // Header values here are latin1 byte strings, one character a byte.
    pathPart = `/${out.join('/')}`.replace(/[^\x21-\x7e]/g, (char) =>
      [...Buffer.from(char, 'latin1')]
        .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
        .join(''),
    );
  }
  if (settings.mergeSlashes) pathPart = pathPart.replace(/\/{2,}/g, '/');
  return pathPart + query;
}

/** The stream with its `:path` as the HCM leaves it for the filters and the upstream. */
function withNormalisedPath(stream: EnvoyStream, settings: PathNormalisation): EnvoyStream {
  return {
    ...stream,
    headers: stream.headers.map(([name, value]) =>
      name === ':path' ? [name, normaliseEnvoyPath(value, settings)] : [name, value],
    ),
  };
}

/** Filter-chain SNI matching: the exact name, then `*.`-suffixes from the longest. */
function chainForServerName(
  chains: readonly InterceptChain[],
  serverName: string,
): InterceptChain | undefined {
  const name = serverName.toLowerCase();
  const exact = chains.find((c) => c.serverNames.includes(name));
  if (exact !== undefined) return exact;
  const labels = name.split('.');
  for (let i = 1; i < labels.length; i += 1) {
    const wildcard = `*.${labels.slice(i).join('.')}`;
    const found = chains.find((c) => c.serverNames.includes(wildcard));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `*.example.com` matches one or more characters before `.example.com` (dots included). */
function suffixWildcardMatches(domain: string, value: string): boolean {
  return (
    domain.startsWith('*.') && value.endsWith(domain.slice(1)) && value.length >= domain.length
  );
}

/**
 * The route table's choice for a CONNECT authority, as Envoy picks a virtual host: an exact
 * domain first, then the longest `*.` suffix domain. None: the catch-all, a checked tunnel.
 */
export function interceptedChains(
  config: EgressConfig,
  authority: string,
): readonly InterceptChain[] | undefined {
  const value = authority.toLowerCase();
  const exact = config.intercepted.get(value);
  if (exact !== undefined) return exact;
  const suffixes = [...config.intercepted.keys()]
    .filter((d) => suffixWildcardMatches(d, value))
    .sort((a, b) => b.length - a.length);
  return suffixes[0] === undefined ? undefined : config.intercepted.get(suffixes[0]);
}

/** Virtual-host domain matching on `:authority`: exact, `*.suffix`, or `*`. */
function domainMatches(domains: readonly string[], authority: string): boolean {
  const value = authority.toLowerCase();
  return domains.some((domain) => {
    const d = domain.toLowerCase();
    if (d === '*' || d === value) return true;
    return suffixWildcardMatches(d, value);
  });
}

function hostOfAuthority(authority: string): string {
  return authority.replace(/:\d+$/, '').toLowerCase();
}

/** The first DNS SAN of a certificate, Envoy's `destination.principal` for its own cert. */
function firstDnsSan(certPem: string): string {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  const dns = san
    .split(', ')
    .find((entry) => entry.startsWith('DNS:'))
    ?.slice(4);
  return dns ?? '';
}

// ---------------------------------------------------------------------------------------------
// The stand-in
// ---------------------------------------------------------------------------------------------

/** Where a test name really listens: `host:port` → loopback address and port. */
export type Resolver = (
  host: string,
  port: number,
) => { address: string; port: number } | undefined;

/** A resolver from a `{'mcp.example.com:443': 45123}` map to 127.0.0.1. */
export function loopbackResolver(ports: Readonly<Record<string, number>>): Resolver {
  return (host, port) => {
    const found = ports[`${host.toLowerCase()}:${String(port)}`];
    return found === undefined ? undefined : { address: '127.0.0.1', port: found };
  };
}

export interface EgressEmulatorOptions {
  /** The authz server: `host:port` or `unix:/path`. */
  readonly authzAddress: string;
  readonly config: EgressConfig;
  readonly resolve: Resolver;
  /** `grpc_service.timeout` in ms. @default 1000 */
  readonly timeoutMs?: number;
}

/** One CONNECT and what the stand-in did with it. */
export interface ConnectRecord {
  readonly authority: string;
  /** `intercepted`: to an interception listener unchecked; `checked`: headers-only Check. */
  readonly route: 'intercepted' | 'checked';
  /** The status the CONNECT was answered with (200, a denial's, 503 for a failed upstream). */
  status: number | undefined;
  /** The local reply body of a refused CONNECT. */
  body: string;
}

/** Why an intercepted connection or an upstream leg failed. */
export interface TlsFailureRecord {
  /** `downstream`: no filter chain for the SNI (closed); `upstream`: re-encryption failed. */
  readonly side: 'downstream' | 'upstream';
  /** The SNI (downstream) or the upstream host. */
  readonly serverName: string;
  /** Node's error code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, or `no_filter_chain`. */
  readonly code: string;
}

export interface EgressEmulator {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, the proxy URL clients are given. */
  readonly url: string;
  /** Every Check, outer (CONNECT, plain http) and inner (decrypted requests), in order. */
  readonly checks: CheckRecord[];
  readonly connects: ConnectRecord[];
  readonly tlsFailures: TlsFailureRecord[];
  waitForCheck(match: (record: CheckRecord) => boolean): Promise<CheckRecord>;
  waitForTlsFailure(match: (record: TlsFailureRecord) => boolean): Promise<TlsFailureRecord>;
  close(): Promise<void>;
}

/** Writes a local reply on a raw CONNECT connection and closes it. */
function replyOnSocket(socket: Duplex, status: number, headers: HeaderEntry[], body: string): void {
  const lines = [
    `HTTP/1.1 ${String(status)} ${http.STATUS_CODES[status] ?? ''}`,
    ...localReplyHeaders([...headers, ['connection', 'close']], body).map(
      ([name, value]) => `${name}: ${value}`,
    ),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Starts the stand-in on 127.0.0.1 (random port). */
export async function startEgressEmulator(options: EgressEmulatorOptions): Promise<EgressEmulator> {
  const { config, resolve } = options;
  const filter = createExtAuthzFilter({
    authzAddress: options.authzAddress,
    withRequestBody: config.withRequestBody,
    includeTlsSession: config.includeTlsSession,
    timeoutMs: options.timeoutMs,
    // The rendered filter's status_on_error.
    statusOnError: 503,
  });
  const connects = new RecordedList<ConnectRecord>();
  const tlsFailures = new RecordedList<TlsFailureRecord>();
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const plainAgent = new http.Agent({ keepAlive: false });
  const tlsAgent = new https.Agent({ keepAlive: false });

  const forwardPlain = forwardUpstream((requestOptions, onResponse, authority) => {
    const port = Number(/:(\d+)$/.exec(authority)?.[1] ?? '80');
    const target = resolve(hostOfAuthority(authority), port);
    return http.request(
      {
        ...requestOptions,
        // An unresolvable name fails like Envoy's DNS lookup: the router's 503.
        host: target?.address ?? 'unresolvable.invalid',
        port: target?.port ?? port,
        agent: plainAgent,
      },
      onResponse,
    );
  });

  const forwardIntercepted = (chain: InterceptChain): Forward =>
    forwardUpstream((requestOptions, onResponse, authority) => {
      const host =
        chain.upstream.kind === 'exact' ? chain.upstream.host : hostOfAuthority(authority);
      const sni = chain.upstream.kind === 'exact' ? chain.upstream.sni : host;
      const target = resolve(host, chain.upstream.port);
      const request = https.request(
        {
          ...requestOptions,
          host: target?.address ?? 'unresolvable.invalid',
          port: target?.port ?? chain.upstream.port,
          // The certificate is checked against this name (Node's checkServerIdentity).
          servername: sni,
          ca: chain.upstream.trustedCa,
          agent: tlsAgent,
        },
        onResponse,
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        tlsFailures.push({ side: 'upstream', serverName: sni, code: error.code ?? error.message });
      });
      return request;
    });

  // One TLS-terminating HTTP server per interception chain set (listener).
  const interceptServers = new Map<readonly InterceptChain[], https.Server>();
  const interceptServer = (chains: readonly InterceptChain[]): https.Server => {
    const existing = interceptServers.get(chains);
    if (existing !== undefined) return existing;
    const contexts = new Map(
      chains.map((c) => [c, tls.createSecureContext({ cert: c.certPem, key: c.keyPem })]),
    );
    const principals = new Map(chains.map((c) => [c, firstDnsSan(c.certPem)]));
    const server = https.createServer(
      {
        ALPNProtocols: ['http/1.1'],
        SNICallback: (serverName, callback) => {
          const chain = chainForServerName(chains, serverName);
          if (chain === undefined) {
            tlsFailures.push({ side: 'downstream', serverName, code: 'no_filter_chain' });
            callback(new Error(`no filter chain matches ${serverName}`), undefined);
            return;
          }
          callback(null, contexts.get(chain));
        },
      },
      (req, res) => {
        const socket = req.socket;
        const sni =
          socket instanceof tls.TLSSocket && typeof socket.servername === 'string'
            ? socket.servername
            : '';
        const chain = chainForServerName(chains, sni);
        if (chain === undefined) {
          res.destroy();
          return;
        }
        const tlsInfo = { sni, localPrincipal: principals.get(chain) ?? '' };
        const stream = withNormalisedPath(toEnvoyStream(req, 'https', tlsInfo), config.paths);
        const authority = stream.headers.find(([k]) => k === ':authority')?.[1] ?? '';
        if (!domainMatches(chain.domains, authority)) {
          // The rendered `misdirected` virtual host: a direct response, ext_authz disabled.
          const body = `this connection serves ${chain.serverNames.join(', ')} only\n`;
          res.writeHead(421, {
            'content-type': 'text/plain',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
          return;
        }
        filter.decode(req, res, stream, forwardIntercepted(chain));
      },
    );
    // A handshake that fails (no chain, a client that distrusts the certificate) just closes.
    server.on('tlsClientError', (_error, socket) => {
      socket.destroy();
    });
    interceptServers.set(chains, server);
    return server;
  };

  const tunnel = async (
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    record: ConnectRecord,
  ): Promise<void> => {
    const stream: EnvoyStream = {
      headers: toEnvoyHeaders('CONNECT', record.authority, req.rawHeaders),
      startTime: new Date(),
      source: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      destination: { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 },
    };
    // The CONNECT route disables body buffering: the Check happens at headers time.
    const verdict: FilterVerdict = await filter.authorize(stream, undefined);
    if (verdict.kind === 'local_reply') {
      record.status = verdict.status;
      record.body = verdict.body;
      replyOnSocket(socket, verdict.status, verdict.headers, verdict.body);
      return;
    }
    const port = Number(/:(\d+)$/.exec(record.authority)?.[1] ?? '443');
    const target = resolve(hostOfAuthority(record.authority), port);
    if (target === undefined) {
      record.status = 503;
      record.body = 'DNS resolution failure';
      replyOnSocket(socket, 503, [], record.body);
      return;
    }
    const upstream = net.connect(target.port, target.address);
    track(upstream);
    upstream.once('error', () => {
      if (record.status === undefined) {
        record.status = 503;
        record.body = 'upstream connect error or disconnect/reset before headers';
        replyOnSocket(socket, 503, [], record.body);
      } else {
        socket.destroy();
      }
    });
    upstream.once('connect', () => {
      record.status = 200;
      socket.write('HTTP/1.1 200 OK\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
  };

  const server = http.createServer((req, res) => {
    filter.decode(req, res, withNormalisedPath(toEnvoyStream(req), config.paths), forwardPlain);
  });
  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    track(socket);
    socket.on('error', () => socket.destroy());
    const authority = (req.url ?? '').toLowerCase();
    const chains = interceptedChains(config, authority);
    const record: ConnectRecord = {
      authority,
      route: chains === undefined ? 'checked' : 'intercepted',
      status: undefined,
      body: '',
    };
    connects.push(record);
    if (chains === undefined) {
      void tunnel(req, socket, head, record);
      return;
    }
    // ext_authz is off on this route: the decrypted requests are checked instead.
    record.status = 200;
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    interceptServer(chains).emit('connection', socket);
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    url: `http://127.0.0.1:${String(port)}`,
    checks: filter.records.items,
    connects: connects.items,
    tlsFailures: tlsFailures.items,
    waitForCheck: (match) => filter.records.waitFor(match),
    waitForTlsFailure: (match) => tlsFailures.waitFor(match),
    async close() {
      for (const socket of sockets) socket.destroy();
      for (const intercept of interceptServers.values()) intercept.closeAllConnections();
      await closeHttpServer(server);
      plainAgent.destroy();
      tlsAgent.destroy();
      filter.close();
    },
  };
}
