/**
 * Every Envoy configuration we ship or render, checked against Envoy's own v3 protos with the
 * strict checker (test/helpers/envoy-strict.ts): the three bootstraps in envoy/, and what
 * render-envoy writes for the bundled allowlist and for a fixture with a wildcard host and a
 * port. Then what mcp-gate relies on in them (SECURITY.md, "Deploying without a bypass"), that
 * the names they use of each other resolve, and what the interception routes do. With ENVOY_BIN
 * set, `envoy --mode validate` also loads each bootstrap with rendered files beside it.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { parse } from 'yaml';

import { buildSnapshot, loadPolicyData } from '../../src/config/policy-data.js';
import { SERVE_OPTIONS } from '../../src/config/service-config.js';
import { inspectionSet } from '../../src/core/policy/inspection-set.js';
import { createCertificateAuthority, issueLeafCertificate } from '../../src/certs/x509.js';
import {
  EXT_AUTHZ_HTTP_FILTER,
  HCM_COMMON,
  IDENTITY_HEADER_STRIP_FILTER,
  HTTP_ACCESS_LOG,
  MAX_REQUEST_BYTES,
} from '../../src/envoy-render/fragments.js';
import { renderEnvoy } from '../../src/envoy-render/render.js';
import { writeRenderedFiles } from '../../src/envoy-render/write.js';
import { checkEnvoyMessage } from '../helpers/envoy-strict.js';
import { REPO_ROOT, renderAllowlist, resourcesOf } from '../helpers/rendered-envoy.js';
import type { RenderResult } from '../helpers/rendered-envoy.js';

type Node = Record<string, unknown>;

const BOOTSTRAPS = ['egress-proxy', 'sidecar', 'transparent'] as const;
const DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const PER_ROUTE_TYPE =
  'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

const bootstraps = new Map<string, Node>();
for (const name of BOOTSTRAPS) {
  const text = await readFile(path.join(REPO_ROOT, 'envoy', `${name}.yaml`), 'utf8');
  bootstraps.set(name, parse(text) as Node);
}
function bootstrap(name: (typeof BOOTSTRAPS)[number]): Node {
  const found = bootstraps.get(name);
  if (found === undefined) throw new Error(name);
  return found;
}

/** Every object below `node` (itself included) for which `pick` holds. */
function collect(node: unknown, pick: (n: Node) => boolean, found: Node[] = []): Node[] {
  if (Array.isArray(node)) for (const inner of node) collect(inner, pick, found);
  else if (typeof node === 'object' && node !== null) {
    const object = node as Node;
    if (pick(object)) found.push(object);
    for (const inner of Object.values(object)) collect(inner, pick, found);
  }
  return found;
}
const hcms = (node: unknown): Node[] => collect(node, (n) => n['@type'] === HCM_TYPE);
const named = (node: unknown, name: string): Node[] => collect(node, (n) => n['name'] === name);

let deployRender: RenderResult;
let fixtureRender: RenderResult;
let emptyRender: RenderResult;
beforeAll(async () => {
  [deployRender, fixtureRender, emptyRender] = await Promise.all([
    renderAllowlist('deploy/allowlist.yaml', ['--cert-manager-issuer', 'mcp-gate-ca']),
    renderAllowlist('test/fixtures/allowlists/interception.yaml'),
    renderAllowlist('test/fixtures/allowlists/host-only.yaml'),
  ]);
});

describe('the strict checker', () => {
  const listener = (extra: Node): Node => ({
    static_resources: {
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '127.0.0.1', port_value: 1 } },
          filter_chains: [{ filters: [{ name: 'tcp', typed_config: extra }] }],
        },
      ],
    },
  });
  const tcpProxy = (fields: Node): Node => ({
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    stat_prefix: 'x',
    ...fields,
  });

  test.each([
    {
      name: 'a misspelt field',
      config: { static_resources: { clusters: [{ name: 'c', conect_timeout: '1s' }] } },
      want: 'static_resources.clusters[0].conect_timeout: unknown field conect_timeout',
    },
    {
      name: 'a misspelt field inside a typed_config',
      config: listener(tcpProxy({ clustr: 'c' })),
      want: 'typed_config.clustr: unknown field clustr of envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    },
    {
      name: 'a bad enum',
      config: { static_resources: { clusters: [{ name: 'c', lb_policy: 'ROUND_ROBINN' }] } },
      want: 'lb_policy: "ROUND_ROBINN" is not a value of envoy.config.cluster.v3.Cluster.LbPolicy',
    },
    {
      name: 'an unknown @type',
      config: listener({
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope',
      }),
      want: 'typed_config.@type: unknown type type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope',
    },
    {
      name: 'a Duration without its unit',
      config: listener(tcpProxy({ cluster: 'c', idle_timeout: '60' })),
      want: 'typed_config.idle_timeout: "60" is not a Duration',
    },
    {
      name: 'a wrapper written as an object',
      config: listener({
        '@type': HCM_TYPE,
        stat_prefix: 'x',
        normalize_path: { value: true },
      }),
      want: 'typed_config.normalize_path: {"value":true} is not a valid bool',
    },
    {
      name: 'two members of one oneof',
      config: listener(tcpProxy({ cluster: 'c', weighted_clusters: { clusters: [] } })),
      want: 'are one oneof (cluster_specifier)',
    },
    {
      name: 'a string where a number belongs',
      config: listener(tcpProxy({ cluster: 'c', max_connect_attempts: 'three' })),
      want: 'typed_config.max_connect_attempts: "three" is not a valid uint32',
    },
  ])('fails on $name', ({ config, want }) => {
    const issues = checkEnvoyMessage(config, 'envoy.config.bootstrap.v3.Bootstrap');
    expect(issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toContain(want);
  });

  it('accepts lowerCamelCase names, enum numbers, Struct, and well-known types in an Any', () => {
    expect(
      checkEnvoyMessage(
        {
          staticResources: { clusters: [{ name: 'c', lbPolicy: 1, connectTimeout: '0.25s' }] },
          node: { id: 'n', metadata: { anything: [1, { nested: true }] } },
          layeredRuntime: {
            layers: [
              {
                name: 'l',
                staticLayer: { 'a.b': 1 },
              },
            ],
          },
          statsConfig: {
            statsTags: [{ tagName: 't', fixedValue: 'v' }],
          },
          bootstrapExtensions: [
            {
              name: 's',
              typedConfig: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: {} },
            },
          ],
        },
        'envoy.config.bootstrap.v3.Bootstrap',
      ),
    ).toEqual([]);
  });
});

describe('envoy/*.yaml against Envoy’s protos', () => {
  test.each(BOOTSTRAPS)('%s.yaml is a valid Bootstrap', (name) => {
    expect(checkEnvoyMessage(bootstrap(name), 'envoy.config.bootstrap.v3.Bootstrap')).toEqual([]);
  });

  test.each(BOOTSTRAPS)('%s.yaml reads lds and cds from the rendered directory', (name) => {
    const dynamic = bootstrap(name)['dynamic_resources'] as Node;
    for (const [key, file] of [
      ['lds_config', 'lds.yaml'],
      ['cds_config', 'cds.yaml'],
    ] as const) {
      expect(dynamic[key]).toEqual({
        path_config_source: {
          path: `/etc/envoy/dynamic/${file}`,
          // The directory, not the file: a ConfigMap update swaps a symlink there.
          watched_directory: { path: '/etc/envoy/dynamic' },
        },
        resource_api_version: 'V3',
      });
    }
    expect(named(bootstrap(name), 'envoy.bootstrap.internal_listener')).toHaveLength(1);
    expect(collect(bootstrap(name), (n) => n['admin'] !== undefined)[0]?.['admin']).toEqual({
      address: { socket_address: { address: '127.0.0.1', port_value: 9901 } },
    });
  });

  test.each(BOOTSTRAPS)('%s.yaml: every HTTP listener has the shared settings', (name) => {
    const found = hcms(bootstrap(name));
    expect(found.length).toBeGreaterThan(0);
    for (const hcm of found) {
      expect(hcm).toMatchObject(HCM_COMMON);
      expect(hcm['access_log']).toEqual([HTTP_ACCESS_LOG]);
      const filters = hcm['http_filters'] as Node[];
      // The identity-header strip first, then ext_authz, with exactly the settings the rendered
      // listeners use.
      expect(filters[0]).toEqual(IDENTITY_HEADER_STRIP_FILTER);
      expect(filters[1]).toEqual(EXT_AUTHZ_HTTP_FILTER);
      expect(filters.at(-1)?.['name']).toBe('envoy.filters.http.router');
      expect(hcm['rds']).toEqual({
        route_config_name: 'mcp_gate_egress',
        config_source: {
          path_config_source: {
            path: '/etc/envoy/dynamic/rds.yaml',
            watched_directory: { path: '/etc/envoy/dynamic' },
          },
          resource_api_version: 'V3',
        },
      });
    }
  });

  test.each(BOOTSTRAPS)('%s.yaml: listeners buffer more than ext_authz sends', (name) => {
    const listeners = (bootstrap(name)['static_resources'] as Node)['listeners'] as Node[];
    for (const listener of listeners) {
      expect(listener['per_connection_buffer_limit_bytes']).toBeGreaterThan(MAX_REQUEST_BYTES);
    }
  });

  it('sends bodies up to mcp-gate’s own cap', () => {
    expect(MAX_REQUEST_BYTES).toBe(Number(SERVE_OPTIONS.maxBodyBytes.default));
    expect(EXT_AUTHZ_HTTP_FILTER['typed_config']).toMatchObject({
      failure_mode_allow: false,
      transport_api_version: 'V3',
      with_request_body: { allow_partial_message: true, pack_as_bytes: true },
    });
  });

  it('egress-proxy reaches mcp-gate over mutual TLS; sidecar on the shared unix socket', () => {
    const gateway = named(bootstrap('egress-proxy'), 'mcp_gate')[0];
    expect(gateway).toMatchObject({
      load_assignment: {
        endpoints: [
          { lb_endpoints: [{ endpoint: { address: { socket_address: { port_value: 9191 } } } }] },
        ],
      },
      transport_socket: {
        typed_config: {
          common_tls_context: {
            alpn_protocols: ['h2'],
            tls_certificate_sds_secret_configs: [{ name: 'mcp_gate_client' }],
            validation_context_sds_secret_config: { name: 'mcp_gate_ca' },
          },
        },
      },
    });
    expect(named(bootstrap('sidecar'), 'mcp_gate')[0]).toMatchObject({
      load_assignment: {
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { pipe: { path: '/run/mcp-gate/authz.sock' } } } },
            ],
          },
        ],
      },
    });
    expect(named(bootstrap('sidecar'), 'mcp_gate')[0]).not.toHaveProperty('transport_socket');
  });
});

describe('render-envoy output against Envoy’s protos', () => {
  const cases = (): [string, RenderResult][] => [
    ['deploy/allowlist.yaml', deployRender],
    ['the wildcard-and-port fixture', fixtureRender],
    ['an empty inspection set', emptyRender],
  ];

  it('renders, exit 0', () => {
    for (const [, result] of cases()) expect(result.code, result.stderr).toBe(0);
  });

  it('every discovery file is a valid DiscoveryResponse of the right resource type', () => {
    const expected: Record<string, string> = {
      'lds.yaml': 'envoy.config.listener.v3.Listener',
      'cds.yaml': 'envoy.config.cluster.v3.Cluster',
      'rds.yaml': 'envoy.config.route.v3.RouteConfiguration',
    };
    for (const [what, result] of cases()) {
      for (const [file, text] of result.files) {
        if (file === 'certificates.yaml') continue;
        const doc = parse(text) as Node;
        expect(checkEnvoyMessage(doc, DISCOVERY_RESPONSE), `${what}: ${file}`).toEqual([]);
        const want = expected[file] ?? 'envoy.extensions.transport_sockets.tls.v3.Secret';
        for (const resource of resourcesOf(text)) {
          expect(resource['@type'], `${what}: ${file}`).toBe(`type.googleapis.com/${want}`);
        }
      }
    }
  });

  it('every name used resolves: clusters, internal listeners, SDS files, routes', () => {
    for (const [what, result] of cases()) {
      const listeners = resourcesOf(result.files.get('lds.yaml'));
      const clusters = resourcesOf(result.files.get('cds.yaml'));
      const routes = resourcesOf(result.files.get('rds.yaml'));
      const listenerNames = new Set(listeners.map((l) => l['name']));
      const rendered = [...listeners, ...clusters, ...routes];
      for (const name of BOOTSTRAPS) {
        const staticClusters = (
          (bootstrap(name)['static_resources'] as Node)['clusters'] as Node[]
        ).map((c) => c['name']);
        const clusterNames = new Set([...staticClusters, ...clusters.map((c) => c['name'])]);
        const everything = [bootstrap(name)['static_resources'], ...rendered];
        for (const ref of collect(everything, (n) => typeof n['cluster'] === 'string')) {
          expect(clusterNames, `${what}, ${name}: cluster ${String(ref['cluster'])}`).toContain(
            ref['cluster'],
          );
        }
        for (const ref of collect(everything, (n) => typeof n['cluster_name'] === 'string')) {
          expect(clusterNames).toContain(ref['cluster_name']);
        }
      }
      for (const address of collect(rendered, (n) => n['server_listener_name'] !== undefined)) {
        expect(listenerNames).toContain(address['server_listener_name']);
      }
      // The SDS files named by the listeners and by egress-proxy's mcp_gate cluster exist.
      for (const source of collect(
        [bootstrap('egress-proxy'), ...rendered],
        (n) => typeof (n['path_config_source'] as Node | undefined)?.['path'] === 'string',
      )) {
        const file = (source['path_config_source'] as Node)['path'] as string;
        const relative = path.posix.relative('/etc/envoy/dynamic', file);
        expect(result.files.has(relative), `${what}: ${file}`).toBe(true);
      }
      expect(routes.map((r) => r['name'])).toEqual(['mcp_gate_egress']);
    }
  });

  it('every interception listener checks requests as the explicit proxy does', () => {
    for (const [what, result] of cases()) {
      const listeners = resourcesOf(result.files.get('lds.yaml'));
      for (const hcm of hcms(listeners)) {
        expect(hcm, what).toMatchObject(HCM_COMMON);
        expect(hcm['access_log']).toEqual([HTTP_ACCESS_LOG]);
        expect((hcm['http_filters'] as Node[]).slice(0, 2)).toEqual([
          IDENTITY_HEADER_STRIP_FILTER,
          EXT_AUTHZ_HTTP_FILTER,
        ]);
      }
      for (const listener of listeners) {
        expect(listener['per_connection_buffer_limit_bytes']).toBeGreaterThan(MAX_REQUEST_BYTES);
      }
    }
  });

  it('is deterministic: rendering again gives the same bytes', async () => {
    const again = await renderAllowlist('deploy/allowlist.yaml', [
      '--cert-manager-issuer',
      'mcp-gate-ca',
    ]);
    expect(again.files).toEqual(deployRender.files);
  });
});

describe('the rendered routes and mcp-gate’s drift rule agree', () => {
  /** `host:port` of every CONNECT the rendered routes hand to an interception listener. */
  function interceptedAuthorities(result: RenderResult): string[] {
    const hosts = resourcesOf(result.files.get('rds.yaml'))[0]?.['virtual_hosts'] as Node[];
    return hosts
      .filter((v) =>
        (v['routes'] as Node[]).some(
          (r) =>
            r['match'] !== undefined &&
            (r['match'] as Node)['connect_matcher'] !== undefined &&
            String((r['route'] as Node)['cluster']).startsWith('mcp_gate_intercept_'),
        ),
      )
      .flatMap((v) => v['domains'] as string[])
      .sort();
  }

  test.each([
    ['deploy/allowlist.yaml', () => deployRender],
    ['test/fixtures/allowlists/interception.yaml', () => fixtureRender],
    ['test/fixtures/allowlists/host-only.yaml', () => emptyRender],
  ] as const)(
    '%s: every host:port mcp-gate would deny as tunnel_not_inspected is intercepted',
    async (file, rendered) => {
      const loaded = await loadPolicyData({
        allowlistPath: path.join(REPO_ROOT, file),
        knownHostsPath: undefined,
        nowMs: Date.parse('2026-12-01T00:00:00Z'),
        skipHashes: [],
      });
      if (loaded.kind !== 'loaded') throw new Error(`${file} did not load`);
      const { policy } = await buildSnapshot(loaded.data, { maxBodyBytes: 1, maxBatchElements: 1 });
      const expected = inspectionSet(policy)
        .flatMap((h) => h.ports.map((port) => `${h.host}:${String(port)}`))
        .sort();
      expect(interceptedAuthorities(rendered())).toEqual(expected);
    },
  );
});

describe('what the fixture’s rendering does', () => {
  const routes = (): Node => resourcesOf(fixtureRender.files.get('rds.yaml'))[0] ?? {};
  const vhost = (domain: string): Node | undefined =>
    (routes()['virtual_hosts'] as Node[]).find((v) => (v['domains'] as string[]).includes(domain));
  const listener = (name: string): Node | undefined =>
    resourcesOf(fixtureRender.files.get('lds.yaml')).find((l) => l['name'] === name);
  const cluster = (name: string): Node | undefined =>
    resourcesOf(fixtureRender.files.get('cds.yaml')).find((c) => c['name'] === name);

  it('sends CONNECTs to intercepted host:ports to their listener, with ext_authz off', () => {
    for (const [domain, target] of [
      ['mcp.example.com:443', 'mcp_gate_intercept_443'],
      ['*.tools.example.net:443', 'mcp_gate_intercept_443'],
      ['mcp.corp.example:443', 'mcp_gate_intercept_443'],
      ['mcp.corp.example:8443', 'mcp_gate_intercept_8443'],
    ] as const) {
      const connect = (vhost(domain)?.['routes'] as Node[] | undefined)?.[0];
      expect(connect, domain).toMatchObject({
        match: { connect_matcher: {} },
        route: {
          cluster: target,
          upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
        },
        typed_per_filter_config: {
          'envoy.filters.http.ext_authz': { '@type': PER_ROUTE_TYPE, disabled: true },
        },
      });
    }
  });

  it('checks every other CONNECT on its authority, without waiting for a body', () => {
    expect(vhost('plain.example.org:443')).toBeUndefined();
    const any = vhost('*');
    expect((any?.['routes'] as Node[])[0]).toMatchObject({
      match: { connect_matcher: {} },
      route: { cluster: 'dynamic_forward_proxy' },
      typed_per_filter_config: {
        'envoy.filters.http.ext_authz': {
          '@type': PER_ROUTE_TYPE,
          check_settings: { disable_request_body_buffering: true },
        },
      },
    });
    // Plain http:// is checked with its body and may stream for hours.
    expect((any?.['routes'] as Node[])[1]).toEqual({
      match: { prefix: '/' },
      route: { cluster: 'dynamic_forward_proxy', timeout: '0s' },
    });
  });

  it('terminates TLS per SNI with that host’s certificate, and refuses other authorities', () => {
    const chains = listener('mcp_gate_intercept_443')?.['filter_chains'] as Node[];
    expect(chains.map((c) => (c['filter_chain_match'] as Node)['server_names'])).toEqual([
      ['*.tools.example.net'],
      ['mcp.corp.example'],
      ['mcp.example.com'],
    ]);
    const only8443 = listener('mcp_gate_intercept_8443')?.['filter_chains'] as Node[];
    expect(only8443.map((c) => c['name'])).toEqual(['mcp.corp.example_8443']);
    const exact = chains[2] ?? {};
    expect(named(exact, 'mcp.example.com')[0]).toMatchObject({
      sds_config: {
        path_config_source: { path: '/etc/envoy/dynamic/sds/mcp.example.com.yaml' },
      },
    });
    const hosts = (hcms(exact)[0]?.['route_config'] as Node)['virtual_hosts'] as Node[];
    expect(hosts[0]).toMatchObject({
      domains: ['mcp.example.com', 'mcp.example.com:443'],
      routes: [{ route: { cluster: 'mcp_gate_upstream_mcp.example.com_443', timeout: '0s' } }],
    });
    expect(hosts[1]).toMatchObject({
      domains: ['*'],
      routes: [{ direct_response: { status: 421 } }],
    });
    const secret = resourcesOf(fixtureRender.files.get('sds/mcp.example.com.yaml'))[0];
    expect(secret?.['tls_certificate']).toEqual({
      certificate_chain: { filename: '/etc/envoy/certs/mcp.example.com/tls.crt' },
      private_key: { filename: '/etc/envoy/certs/mcp.example.com/tls.key' },
      watched_directory: { path: '/etc/envoy/certs/mcp.example.com' },
    });
  });

  it('re-encrypts upstream and verifies the real server', () => {
    expect(cluster('mcp_gate_upstream_mcp.corp.example_8443')).toMatchObject({
      load_assignment: {
        endpoints: [
          {
            lb_endpoints: [
              {
                endpoint: {
                  address: { socket_address: { address: 'mcp.corp.example', port_value: 8443 } },
                },
              },
            ],
          },
        ],
      },
      transport_socket: {
        typed_config: {
          sni: 'mcp.corp.example',
          common_tls_context: {
            validation_context: {
              trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' },
              match_typed_subject_alt_names: [
                { san_type: 'DNS', matcher: { exact: 'mcp.corp.example' } },
              ],
            },
          },
        },
      },
    });
    // A wildcard pattern: the request's authority is the SNI and the name checked.
    const wildcardChain = (listener('mcp_gate_intercept_443')?.['filter_chains'] as Node[])[0];
    expect(collect(wildcardChain, (n) => n['cluster'] !== undefined)[0]?.['cluster']).toBe(
      'mcp_gate_upstream_dynamic',
    );
    expect(cluster('mcp_gate_upstream_dynamic')).toMatchObject({
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true },
        },
      },
      transport_socket: {
        typed_config: {
          common_tls_context: {
            validation_context: { trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' } },
          },
        },
      },
    });
  });

  it('transparent: the 443 chains, and a host-only check on the SNI for the rest', () => {
    const transparent = listener('mcp_gate_transparent') ?? {};
    expect((transparent['filter_chains'] as Node[]).map((c) => c['name'])).toEqual([
      'wildcard.tools.example.net_443',
      'mcp.corp.example_443',
      'mcp.example.com_443',
    ]);
    const fallback = (transparent['default_filter_chain'] as Node)['filters'] as Node[];
    expect(fallback.map((f) => f['name'])).toEqual([
      'envoy.filters.network.ext_authz',
      'envoy.filters.network.sni_dynamic_forward_proxy',
      'envoy.filters.network.tcp_proxy',
    ]);
    expect(fallback[0]?.['typed_config']).toMatchObject({ failure_mode_allow: false });
  });

  it('an empty inspection set intercepts nothing and checks every CONNECT on its authority', () => {
    const listeners = resourcesOf(emptyRender.files.get('lds.yaml'));
    expect(listeners.map((l) => l['name'])).toEqual(['mcp_gate_transparent']);
    expect(listeners[0]?.['filter_chains']).toEqual([]);
    const hosts = resourcesOf(emptyRender.files.get('rds.yaml'))[0]?.['virtual_hosts'] as Node[];
    expect(hosts.map((v) => v['name'])).toEqual(['any']);
    expect([...emptyRender.files.keys()].filter((f) => f.startsWith('sds/'))).toEqual([
      'sds/mcp_gate_ca.yaml',
      'sds/mcp_gate_client.yaml',
    ]);
  });

  it('the bundled allowlist’s inspection set is what the deploy render intercepts', () => {
    expect(deployRender.stdout).toContain(
      '6 intercepted host pattern(s) (*.mcp.cloudflare.com, api.githubcopilot.com, docs.mcp.cloudflare.com, mcp.atlassian.com, mcp.internal.corp.example, mcp.sentry.dev)',
    );
  });
});

const ENVOY_BIN = process.env['ENVOY_BIN'] ?? '';

describe.runIf(ENVOY_BIN !== '')('envoy --mode validate (ENVOY_BIN)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-envoy-validate-'));
    const ca = await createCertificateAuthority({ commonName: 'validate CA', validityDays: 2 });
    const hosts = [
      { host: 'mcp.example.com', ports: [443, 8443], name: 'mcp.example.com', entryIds: ['x'] },
    ];
    const paths = {
      dynamicDir: path.join(dir, 'dynamic'),
      certsDir: path.join(dir, 'certs'),
      caBundle: path.join(dir, 'ca.crt'),
      mcpGateClientDir: path.join(dir, 'client'),
    };
    await writeFile(paths.caBundle, ca.certPem);
    for (const [sub, dnsNames] of [
      [path.join(paths.certsDir, 'mcp.example.com'), ['mcp.example.com']],
      [paths.mcpGateClientDir, ['envoy']],
    ] as const) {
      const leaf = await issueLeafCertificate({
        ca,
        dnsNames,
        validityDays: 2,
        usage: 'server+client',
      });
      await mkdir(sub, { recursive: true });
      await writeFile(path.join(sub, 'tls.crt'), leaf.certPem);
      await writeFile(path.join(sub, 'tls.key'), leaf.keyPem, { mode: 0o600 });
      await writeFile(path.join(sub, 'ca.crt'), ca.certPem);
    }
    await writeRenderedFiles(paths.dynamicDir, renderEnvoy(hosts, paths));
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  test.each(BOOTSTRAPS)('%s.yaml loads', async (name) => {
    const text = (await readFile(path.join(REPO_ROOT, 'envoy', `${name}.yaml`), 'utf8')).replaceAll(
      '/etc/envoy/dynamic',
      path.join(dir, 'dynamic'),
    );
    const file = path.join(dir, `${name}.yaml`);
    await writeFile(file, text);
    const child = spawn(ENVOY_BIN, ['--mode', 'validate', '-c', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    expect(code, output).toBe(0);
  });
});
