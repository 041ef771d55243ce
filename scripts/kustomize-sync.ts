/**
 * `npm run kustomize:sync [-- --check]`: writes the files that Kustomize must find inside
 * deploy/kubernetes/, because it reads no file outside a kustomization's own directory (and
 * refuses a kustomization above one it already visited, so deploy/ cannot hold one for its own
 * files). The files are:
 *
 * - byte-for-byte copies of the allowlist, the known-MCP-host list, the Envoy bootstraps, and
 *   the Grafana dashboard and the PrometheusRule that components/monitoring installs;
 * - `mcp-gate render-envoy` of the allowlist into deploy/kubernetes/rendered/ (Envoy's dynamic
 *   files and the cert-manager Certificates), plus that directory's kustomization.yaml: a
 *   Component that turns the rendered files into a ConfigMap and mounts it, and each intercepted
 *   host's certificate Secret, into the container "envoy" of every Deployment labelled
 *   mcp-gate.io/envoy: "true" (the egress gateway's and the sidecar's).
 *
 * With --check nothing is written: it exits 1 and names every file that differs, which is what
 * test/integration/kubernetes.test.ts runs, so an edit to an original without a sync fails CI.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../src/cli.js';
import {
  certificateSecretName,
  DEFAULT_CERTS_DIR,
  DEFAULT_DYNAMIC_DIR,
} from '../src/envoy-render/layout.js';
import { driftedFiles, ROOT, runGenerator } from './generated-files.js';
import type { GeneratedFiles } from './generated-files.js';

export const RENDERED_DIR = 'deploy/kubernetes/rendered';
/** The Issuer that signs interception certificates (overlays/egress-gateway/issuers.yaml). */
export const INTERCEPTION_ISSUER = 'mcp-gate-ca';
/** Issuer, or ClusterIssuer (then drop the Issuer from issuers.yaml). */
export const INTERCEPTION_ISSUER_KIND = 'Issuer';
/** The ConfigMap of Envoy's dynamic files; the label the rendered component patches by. */
export const ENVOY_DYNAMIC_CONFIGMAP = 'mcp-gate-envoy-dynamic';
export const ENVOY_LABEL = 'mcp-gate.io/envoy';

/** Original → copy, both relative to the repository. */
export const COPIES: readonly (readonly [string, string])[] = [
  ['deploy/allowlist.yaml', 'deploy/kubernetes/policy/files/allowlist.yaml'],
  ['deploy/known-mcp-hosts.yaml', 'deploy/kubernetes/policy/files/known-mcp-hosts.yaml'],
  ['envoy/egress-proxy.yaml', 'deploy/kubernetes/overlays/egress-gateway/files/envoy.yaml'],
  ['envoy/sidecar.yaml', 'deploy/kubernetes/components/sidecar/files/envoy.yaml'],
  ['deploy/grafana/mcp-gate.json', 'deploy/kubernetes/components/monitoring/files/mcp-gate.json'],
  [
    'deploy/prometheus/prometheus-rule.yaml',
    'deploy/kubernetes/components/monitoring/prometheus-rule.yaml',
  ],
];

/** Every synced file's expected content (undefined: absent), by path relative to the repository. */
export async function expectedFiles(): Promise<Map<string, string | undefined>> {
  const files = new Map<string, string | undefined>();
  // A missing original means no copy (Kustomize then says which file it lacks).
  for (const [from, to] of COPIES) {
    files.set(to, await readFile(path.join(ROOT, from), 'utf8').catch(() => undefined));
  }
  for (const [relative, content] of await renderEnvoy()) {
    files.set(`${RENDERED_DIR}/${relative}`, content);
  }
  return files;
}

/** render-envoy's files for deploy/allowlist.yaml, and the Component that mounts them. */
async function renderEnvoy(): Promise<Map<string, string>> {
  const out = await mkdtemp(path.join(tmpdir(), 'mcp-gate-kustomize-'));
  try {
    let errors = '';
    const code = await runCli(
      [
        'render-envoy',
        '--allowlist',
        path.join(ROOT, 'deploy/allowlist.yaml'),
        '--known-hosts',
        path.join(ROOT, 'deploy/known-mcp-hosts.yaml'),
        '--out',
        out,
        '--cert-manager-issuer',
        INTERCEPTION_ISSUER,
        '--cert-manager-issuer-kind',
        INTERCEPTION_ISSUER_KIND,
      ],
      {
        stdout: () => undefined,
        stderr: (text) => {
          errors += text;
        },
        now: new Date(),
        env: {},
      },
    );
    if (code !== 0) throw new Error(`render-envoy failed (exit ${String(code)}): ${errors}`);
    const rendered = new Map<string, string>();
    for (const entry of await readdir(out, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const relative = path.relative(out, path.join(entry.parentPath, entry.name));
      rendered.set(
        relative.split(path.sep).join('/'),
        await readFile(path.join(out, relative), 'utf8'),
      );
    }
    rendered.set('kustomization.yaml', renderedComponent(rendered));
    return rendered;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** A Kubernetes volume name (a DNS label) for a host's certificate. */
function volumeName(name: string, taken: Set<string>): string {
  let candidate = `tls-${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
  candidate = candidate.replace(/-+$/, '');
  if (taken.has(candidate)) candidate = `tls-${String(taken.size)}`;
  taken.add(candidate);
  return candidate;
}

/** The intercepted hosts' names: the directories under the certificates dir that files name. */
function certificateNames(rendered: ReadonlyMap<string, string>): string[] {
  const names = new Set<string>();
  const prefix = new RegExp(`${DEFAULT_CERTS_DIR}/([^/\\s'"]+)/`, 'g');
  for (const content of rendered.values()) {
    for (const match of content.matchAll(prefix)) names.add(match[1] ?? '');
  }
  return [...names].sort();
}

/** The rendered directory's kustomization.yaml, from the rendered files. */
function renderedComponent(rendered: ReadonlyMap<string, string>): string {
  const files = [...rendered.keys()].sort();
  const dynamic = files.filter((f) => f.endsWith('.yaml') && f !== 'certificates.yaml');
  // ConfigMap keys cannot hold "/": sds/<name>.yaml is stored as sds.<name>.yaml and mounted back.
  const keyOf = (file: string): string => file.replace('/', '.');
  const hosts = certificateNames(rendered);
  const taken = new Set<string>();
  const certVolumes = hosts.map((host) => ({ host, volume: volumeName(host, taken) }));
  const patch = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'any' },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'envoy',
              volumeMounts: [
                { name: 'envoy-dynamic', mountPath: DEFAULT_DYNAMIC_DIR, readOnly: true },
                ...certVolumes.map(({ host, volume }) => ({
                  name: volume,
                  mountPath: `${DEFAULT_CERTS_DIR}/${host}`,
                  readOnly: true,
                })),
              ],
            },
          ],
          volumes: [
            {
              name: 'envoy-dynamic',
              configMap: {
                name: ENVOY_DYNAMIC_CONFIGMAP,
                items: dynamic.map((file) => ({ key: keyOf(file), path: file })),
              },
            },
            ...certVolumes.map(({ host, volume }) => ({
              name: volume,
              secret: {
                secretName: certificateSecretName(host),
                items: [
                  { key: 'tls.crt', path: 'tls.crt' },
                  { key: 'tls.key', path: 'tls.key' },
                ],
              },
            })),
          ],
        },
      },
    },
  };
  const component = {
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    ...(hosts.length > 0 ? { resources: ['certificates.yaml'] } : {}),
    configMapGenerator: [
      {
        name: ENVOY_DYNAMIC_CONFIGMAP,
        // Same name across edits: the kubelet swaps the files in place and Envoy, watching the
        // directory, loads them without a restart.
        options: {
          disableNameSuffixHash: true,
          labels: { 'app.kubernetes.io/part-of': 'mcp-gate' },
        },
        files: dynamic.map((file) => (file.includes('/') ? `${keyOf(file)}=${file}` : file)),
      },
    ],
    patches: [
      {
        target: { kind: 'Deployment', labelSelector: `${ENVOY_LABEL}=true` },
        patch: stringify(patch, { lineWidth: 0 }),
      },
    ],
  };
  return (
    '# Written by `npm run kustomize:sync` from the files render-envoy wrote here; do not edit.\n' +
    stringify(component, { lineWidth: 0 })
  );
}

/**
 * Paths (relative to the repository) whose content differs from `expected`, and files under the
 * rendered directory that the render no longer writes (removed by a sync).
 */
export async function syncDrift(expected: GeneratedFiles): Promise<string[]> {
  const drifted = await driftedFiles(expected);
  for (const file of await filesUnder(RENDERED_DIR)) {
    if (!expected.has(file)) drifted.push(file);
  }
  return drifted;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), {
    recursive: true,
    withFileTypes: true,
  }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

if (process.argv[1] === import.meta.filename) {
  process.exitCode = await runGenerator(await expectedFiles(), 'npm run kustomize:sync', syncDrift);
}
