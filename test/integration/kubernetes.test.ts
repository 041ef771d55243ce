/**
 * deploy/kubernetes/ as a newcomer renders it (`kubectl kustomize DIR`, no extra flags): every
 * overlay and the sidecar example render; every object is valid against Kubernetes' and
 * cert-manager's schemas (kubernetes-models); and the references between objects hold: mounted
 * ConfigMaps and Secrets exist with the keys mounted, Service targetPorts and probe ports are
 * container ports, probe paths are ones mcp-gate's telemetry server answers, selectors select,
 * mcp-gate's args pass its own configuration check and name files its mounts provide, every file
 * Envoy's configs name is mounted, and Envoy's sidecar socket is mcp-gate's --grpc-listen.
 *
 * What no test here can show (no cluster): that the API server, cert-manager and the kubelet
 * accept and run them; docs/kubernetes.md lists it.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';

import { runExpiring } from '../../src/cli/expiring.js';
import { resolveServeConfig, SERVE_OPTIONS } from '../../src/config/service-config.js';
import { DEFAULT_CA_BUNDLE } from '../../src/envoy-render/layout.js';
import { createTelemetryServer } from '../../src/telemetry/http.js';
import { expectedFiles, syncDrift } from '../../scripts/kustomize-sync.js';
import { validateObject } from '../helpers/kube-schema.js';
import { findKustomize, kustomize } from '../helpers/kustomize.js';
import type { KubeObject } from '../helpers/kustomize.js';
import { ROOT } from '../helpers/serve-process.js';

/** Every kustomization a user renders, by the name the tests use. */
const RENDERINGS = {
  base: 'deploy/kubernetes/base',
  'egress-gateway': 'deploy/kubernetes/overlays/egress-gateway',
  'workload-egress': 'deploy/kubernetes/overlays/egress-gateway/workload-egress',
  'sidecar-agent': 'deploy/kubernetes/examples/sidecar-agent',
  monitoring: 'deploy/kubernetes/examples/monitoring',
  'expiry-reminders': 'deploy/kubernetes/examples/expiry-reminders',
} as const;
type Rendering = keyof typeof RENDERINGS;

/**
 * Objects the operator creates before applying (docs/kubernetes.md): the interception CA's key
 * pair (for the Issuer) and, for sidecars, its certificate alone as a ConfigMap.
 */
const EXTERNAL_CONFIGMAPS = new Set(['mcp-gate-interception-ca']);
/** The keys cert-manager writes into every Certificate's Secret. */
const CERTIFICATE_SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt'];

const tool = findKustomize();
// Under CI a missing Kustomize fails the suite instead of skipping it.
const suite = tool === undefined && process.env['CI'] !== 'true' ? describe.skip : describe;
const rendered = new Map<Rendering, KubeObject[]>();

function objects(name: Rendering): KubeObject[] {
  const found = rendered.get(name);
  if (found === undefined) throw new Error(`${name} was not rendered`);
  return found;
}

function ofKind<T>(name: Rendering, kind: string): (T & KubeObject)[] {
  return objects(name).filter((o) => o.kind === kind) as (T & KubeObject)[];
}

function podSpec(deployment: IDeployment): IPodSpec {
  const spec = deployment.spec?.template.spec;
  if (spec === undefined)
    throw new Error(`Deployment ${String(deployment.metadata?.name)} has no pod spec`);
  return spec;
}

function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (selector === undefined) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The keys a mounted ConfigMap or Secret volume offers, as paths inside the mount. */
function volumeFiles(name: Rendering, spec: IPodSpec, volumeName: string): string[] | 'emptyDir' {
  const volume = spec.volumes?.find((v) => v.name === volumeName);
  if (volume === undefined) throw new Error(`no volume ${volumeName}`);
  if (volume.emptyDir !== undefined) return 'emptyDir';
  if (volume.configMap !== undefined) {
    const configMapName = volume.configMap.name ?? '';
    if (EXTERNAL_CONFIGMAPS.has(configMapName)) return ['ca.crt'];
    const configMap = ofKind<IConfigMap>(name, 'ConfigMap').find(
      (c) => c.metadata.name === configMapName,
    );
    if (configMap === undefined)
      throw new Error(`volume ${volumeName}: no ConfigMap ${configMapName}`);
    const keys = Object.keys(configMap.data ?? {});
    const items = volume.configMap.items;
    if (items === undefined) return keys;
    for (const item of items) expect(keys, `ConfigMap ${configMapName}`).toContain(item.key);
    return items.map((i) => i.path);
  }
  if (volume.secret !== undefined) {
    const secretName = volume.secret.secretName ?? '';
    const issued = ofKind<ICertificate>(name, 'Certificate').some(
      (c) => c.spec.secretName === secretName,
    );
    if (!issued)
      throw new Error(`volume ${volumeName}: no Certificate writes Secret ${secretName}`);
    const items = volume.secret.items;
    if (items === undefined) return CERTIFICATE_SECRET_KEYS;
    for (const item of items) expect(CERTIFICATE_SECRET_KEYS).toContain(item.key);
    return items.map((i) => i.path);
  }
  throw new Error(`volume ${volumeName}: a kind of volume these tests do not know`);
}

/** 'file' or 'dir' when the container's mounts provide `file`, else undefined. */
function provided(
  name: Rendering,
  spec: IPodSpec,
  container: IContainer,
  file: string,
): 'file' | 'dir' | undefined {
  for (const mount of container.volumeMounts ?? []) {
    const files = volumeFiles(name, spec, mount.name);
    if (mount.subPath !== undefined) {
      if (file === mount.mountPath)
        return files !== 'emptyDir' && files.includes(mount.subPath) ? 'file' : undefined;
      continue;
    }
    if (file === mount.mountPath) return 'dir';
    if (!file.startsWith(`${mount.mountPath}/`)) continue;
    if (files === 'emptyDir') return 'dir';
    const inside = file.slice(mount.mountPath.length + 1);
    if (files.includes(inside)) return 'file';
    if (files.some((f) => f.startsWith(`${inside}/`))) return 'dir';
  }
  return undefined;
}

/** Every string in a parsed document. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/** `pipe: { path }` addresses in a parsed Envoy config. */
function pipes(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(pipes);
  if (typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  const own =
    typeof record['pipe'] === 'object' && record['pipe'] !== null
      ? [(record['pipe'] as { path: string }).path]
      : [];
  return [...own, ...Object.values(record).flatMap(pipes)];
}

/** The text of a file the container reads through its mounts. */
function mountedText(name: Rendering, spec: IPodSpec, container: IContainer, file: string): string {
  for (const mount of container.volumeMounts ?? []) {
    const inside =
      mount.subPath ??
      (file.startsWith(`${mount.mountPath}/`) ? file.slice(mount.mountPath.length + 1) : undefined);
    if (inside === undefined || (mount.subPath !== undefined && file !== mount.mountPath)) continue;
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    const configMap = ofKind<IConfigMap>(name, 'ConfigMap').find(
      (c) => c.metadata.name === volume?.configMap?.name,
    );
    const key = volume?.configMap?.items?.find((i) => i.path === inside)?.key ?? inside;
    const text = configMap?.data?.[key];
    if (text !== undefined) return text;
  }
  throw new Error(`${container.name} cannot read ${file} from a ConfigMap`);
}

function containers(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

function probes(container: IContainer): IProbe[] {
  return [container.startupProbe, container.readinessProbe, container.livenessProbe].filter(
    (p): p is IProbe => p !== undefined,
  );
}

/** mcp-gate's `serve` args, parsed by the flags serve declares. */
function serveFlags(container: IContainer): Record<string, string> {
  const [command, ...args] = container.args ?? [];
  expect(command).toBe('serve');
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.values(SERVE_OPTIONS).map((o) => [o.flag, { type: 'string' as const }]),
    ),
    strict: true,
    allowPositionals: false,
  });
  return values as Record<string, string>;
}

suite('deploy/kubernetes', () => {
  let telemetry: ReturnType<typeof createTelemetryServer>;
  let telemetryPort: number;

  beforeAll(async () => {
    if (tool === undefined)
      throw new Error('no Kustomize: install kubectl or kustomize (scripts/ensure-test-tools.sh)');
    for (const [name, dir] of Object.entries(RENDERINGS) as [Rendering, string][]) {
      rendered.set(name, kustomize(tool, path.join(ROOT, dir)));
    }
    telemetry = createTelemetryServer({ registry: new Registry(), isReady: () => true });
    telemetryPort = await telemetry.listen('127.0.0.1', 0);
    // Five renders; kubectl takes about half a second each here, a loaded CI machine longer.
  }, 60_000);

  afterAll(async () => {
    await telemetry.close();
  });

  test('the synced copies and the rendered Envoy files match their originals', async () => {
    // npm run kustomize:sync writes them; an edit to an original without a sync fails here.
    expect(await syncDrift(await expectedFiles())).toEqual([]);
  });

  test.each(Object.keys(RENDERINGS) as Rendering[])(
    '%s: every object is valid against its schema',
    async (name) => {
      expect(objects(name).length).toBeGreaterThan(0);
      for (const object of objects(name)) await validateObject(object);
    },
  );

  test('a broken object fails the schema check', async () => {
    const deployment = structuredClone(ofKind<IDeployment>('egress-gateway', 'Deployment')[0]);
    if (deployment === undefined) throw new Error('no Deployment rendered');
    const container = podSpec(deployment).containers[0];
    if (container === undefined) throw new Error('no container');
    (container as unknown as { ports: unknown }).ports = [{ containerPort: 'grpc' }];
    await expect(validateObject(deployment)).rejects.toThrow(/containerPort must be integer/);

    const certificate = structuredClone(ofKind<ICertificate>('egress-gateway', 'Certificate')[0]);
    if (certificate?.spec === undefined) throw new Error('no Certificate rendered');
    delete (certificate.spec as { secretName?: string }).secretName;
    await expect(validateObject(certificate)).rejects.toThrow(/secretName/);

    const monitor = structuredClone(ofKind<IServiceMonitor>('monitoring', 'ServiceMonitor')[0]);
    if (monitor?.spec.endpoints[0] === undefined) throw new Error('no ServiceMonitor rendered');
    (monitor.spec.endpoints[0] as { port: unknown }).port = 9192;
    await expect(validateObject(monitor)).rejects.toThrow(/port must be string/);

    const unknownKind = { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'x' } };
    await expect(validateObject(unknownKind)).rejects.toThrow(/no schema/);
  });

  test.each(Object.keys(RENDERINGS) as Rendering[])(
    '%s: pods are restricted, bounded and their mounts exist',
    (name) => {
      for (const deployment of ofKind<IDeployment>(name, 'Deployment')) {
        const spec = podSpec(deployment);
        expect(deployment.spec?.selector.matchLabels).toBeDefined();
        expect(
          selects(
            deployment.spec?.selector.matchLabels,
            deployment.spec?.template.metadata?.labels,
          ),
        ).toBe(true);
        expect(spec.automountServiceAccountToken).toBe(false);
        for (const container of containers(spec)) {
          const where = `${deployment.metadata.name}/${container.name}`;
          const context = container.securityContext;
          expect(context?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot, where).toBe(true);
          expect(
            (context?.seccompProfile ?? spec.securityContext?.seccompProfile)?.type,
            where,
          ).toBe('RuntimeDefault');
          expect(context?.allowPrivilegeEscalation, where).toBe(false);
          expect(context?.readOnlyRootFilesystem, where).toBe(true);
          expect(context?.capabilities?.drop, where).toContain('ALL');
          for (const bound of ['requests', 'limits'] as const) {
            expect(
              Object.keys(container.resources?.[bound] ?? {}).sort(),
              `${where} ${bound}`,
            ).toEqual(['cpu', 'memory']);
          }
          expect(container.image, where).toMatch(/.+:.+/);
          for (const mount of container.volumeMounts ?? []) {
            const files = volumeFiles(name, spec, mount.name);
            if (mount.subPath !== undefined)
              expect(files, `${where} subPath`).toContain(mount.subPath);
          }
        }
      }
    },
  );

  test.each(Object.keys(RENDERINGS) as Rendering[])(
    '%s: Services, probes, budgets, autoscalers and policies point at real pods and ports',
    async (name) => {
      const deployments = ofKind<IDeployment>(name, 'Deployment');
      const podsSelectedBy = (selector: Record<string, string> | undefined): IDeployment[] =>
        deployments.filter((d) => selects(selector, d.spec?.template.metadata?.labels));
      const portNames = (ds: IDeployment[]): (string | number)[] =>
        ds.flatMap((d) =>
          containers(podSpec(d)).flatMap((c) =>
            (c.ports ?? []).flatMap((p) => [p.name ?? '', p.containerPort]),
          ),
        );

      for (const service of ofKind<IService>(name, 'Service')) {
        const pods = podsSelectedBy(service.spec?.selector);
        expect(pods.length, `Service ${service.metadata.name}`).toBeGreaterThan(0);
        for (const port of service.spec?.ports ?? [])
          expect(portNames(pods)).toContain(port.targetPort);
      }
      for (const budget of ofKind<IPodDisruptionBudget>(name, 'PodDisruptionBudget')) {
        expect(podsSelectedBy(budget.spec?.selector?.matchLabels).length).toBe(1);
      }
      for (const autoscaler of ofKind<IHorizontalPodAutoscaler>(name, 'HorizontalPodAutoscaler')) {
        const target = deployments.find(
          (d) => d.metadata.name === autoscaler.spec?.scaleTargetRef.name,
        );
        expect(target, `HPA ${autoscaler.metadata.name}`).toBeDefined();
      }
      for (const policy of ofKind<INetworkPolicy>(name, 'NetworkPolicy')) {
        const selector = policy.spec?.podSelector.matchLabels;
        if (selector === undefined) continue; // {}: every pod of the namespace
        const pods = podsSelectedBy(selector);
        expect(pods.length, `NetworkPolicy ${policy.metadata.name}`).toBeGreaterThan(0);
        for (const rule of policy.spec?.ingress ?? []) {
          for (const port of rule.ports ?? []) expect(portNames(pods)).toContain(port.port);
        }
      }
      for (const deployment of deployments) {
        for (const container of containers(podSpec(deployment))) {
          const ports = (container.ports ?? []).flatMap((p) => [p.name ?? '', p.containerPort]);
          for (const probe of probes(container)) {
            const port = probe.httpGet?.port ?? probe.grpc?.port ?? probe.tcpSocket?.port;
            expect(ports, `${container.name} probe port`).toContain(port);
            if (probe.httpGet?.path !== undefined) {
              const answer = await fetch(
                `http://127.0.0.1:${String(telemetryPort)}${probe.httpGet.path}`,
              );
              expect(answer.status, `${container.name} probes ${probe.httpGet.path}`).toBe(200);
            }
          }
        }
      }
    },
  );

  test.each(['egress-gateway', 'sidecar-agent'] as const)(
    '%s: mcp-gate and Envoy find every file they are told to read',
    (name) => {
      let sawMcpGate = false;
      let sawEnvoy = false;
      for (const deployment of ofKind<IDeployment>(name, 'Deployment')) {
        const spec = podSpec(deployment);
        for (const container of spec.containers) {
          if (container.name === 'mcp-gate') {
            sawMcpGate = true;
            const flags = serveFlags(container);
            // mcp-gate's own configuration check accepts them.
            expect(() => resolveServeConfig(flags, {})).not.toThrow();
            for (const value of Object.values(flags).filter((v) => v.startsWith('/'))) {
              expect(provided(name, spec, container, value), `mcp-gate reads ${value}`).toBe(
                'file',
              );
            }
          }
          if (container.name === 'envoy') {
            sawEnvoy = true;
            const bootstrapPath = container.args?.[container.args.indexOf('-c') + 1] ?? '';
            const bootstrap: unknown = parse(mountedText(name, spec, container, bootstrapPath));
            // The bootstrap, the dynamic files it names, and the files those name, transitively.
            const configs: unknown[] = [bootstrap];
            const read = new Set<string>([bootstrapPath]);
            // for-of visits what the loop appends (the array iterator re-reads the length).
            for (const config of configs) {
              for (const file of strings(config)) {
                if (!file.startsWith('/etc/envoy/') || !file.endsWith('.yaml') || read.has(file)) {
                  continue;
                }
                read.add(file);
                configs.push(parse(mountedText(name, spec, container, file)));
              }
            }
            expect(read.size, 'Envoy config files read').toBeGreaterThan(2);
            for (const file of configs
              .flatMap(strings)
              .filter((s) => s.startsWith('/etc/') && s !== DEFAULT_CA_BUNDLE)) {
              expect(provided(name, spec, container, file), `Envoy reads ${file}`).toBeDefined();
              if (/\.(yaml|crt|key)$/.test(file))
                expect(provided(name, spec, container, file), file).toBe('file');
            }
          }
        }
      }
      expect([sawMcpGate, sawEnvoy]).toEqual([true, true]);
    },
  );

  test('expiry-reminders: a restricted CronJob whose command lists the mounted allowlist', async () => {
    const [cronJob, ...others] = ofKind<ICronJob>('expiry-reminders', 'CronJob');
    expect(others).toEqual([]);
    const spec = cronJob?.spec?.jobTemplate.spec?.template.spec;
    if (cronJob === undefined || spec === undefined) throw new Error('no CronJob pod spec');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [container] = spec.containers;
    if (container === undefined) throw new Error('no container');
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // The image's entrypoint is mcp-gate: the args are a command line of ours.
    const [command, file, ...flags] = container.args ?? [];
    expect(command).toBe('expiring');
    if (file === undefined) throw new Error('no file');
    expect(provided('expiry-reminders', spec, container, file)).toBe('file');
    // Run it on the mounted ConfigMap's text, at a time when the shipped allowlist has an
    // approval within the window.
    const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-cronjob-'));
    try {
      const copy = path.join(dir, 'allowlist.yaml');
      await writeFile(copy, mountedText('expiry-reminders', spec, container, file));
      let stdout = '';
      let stderr = '';
      const code = await runExpiring([copy, ...flags], {
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        now: new Date('2027-02-20T07:00:00Z'),
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toEqual([
        expect.objectContaining({ id: 'sentry', days: 8, expires_on: '2027-02-28', file: copy }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('sidecar: Envoy dials the unix socket mcp-gate listens on, on a volume both mount', () => {
    const deployment = ofKind<IDeployment>('sidecar-agent', 'Deployment')[0];
    if (deployment === undefined) throw new Error('no Deployment');
    const spec = podSpec(deployment);
    const byName = (n: string): IContainer => {
      const found = spec.containers.find((c) => c.name === n);
      if (found === undefined) throw new Error(`no container ${n}`);
      return found;
    };
    const mcpGate = byName('mcp-gate');
    const envoy = byName('envoy');
    const listen = serveFlags(mcpGate)['grpc-listen'] ?? '';
    expect(listen).toMatch(/^unix:\//);
    const socket = listen.slice('unix:'.length);
    const bootstrapPath = envoy.args?.[envoy.args.indexOf('-c') + 1] ?? '';
    const dialled = pipes(parse(mountedText('sidecar-agent', spec, envoy, bootstrapPath)));
    expect(dialled).toEqual([socket]);
    const volumeAt = (c: IContainer): string | undefined =>
      c.volumeMounts?.find((m) => m.mountPath === path.posix.dirname(socket))?.name;
    expect(volumeAt(mcpGate)).toBeDefined();
    expect(volumeAt(envoy)).toBe(volumeAt(mcpGate));
    expect(volumeFiles('sidecar-agent', spec, volumeAt(mcpGate) ?? '')).toBe('emptyDir');
    // The agent is sent through the sidecar, trusts the interception CA, and stays the default
    // container of kubectl logs and exec.
    const agent = byName('agent');
    expect(
      deployment.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/default-container'],
    ).toBe(agent.name);
    const env = Object.fromEntries((agent.env ?? []).map((e) => [e.name, e.value]));
    expect(env['HTTPS_PROXY']).toBe('http://127.0.0.1:10000');
    expect(env['HTTP_PROXY']).toBe('http://127.0.0.1:10000');
    expect(env['NO_PROXY']).toContain('.svc');
    expect(provided('sidecar-agent', spec, agent, env['NODE_EXTRA_CA_CERTS'] ?? '')).toBe('file');
  });
  test('monitoring: Prometheus scrapes mcp-gate and loads the rules, Grafana finds the dashboard', async () => {
    const monitors = ofKind<IServiceMonitor>('monitoring', 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name)).toEqual(['mcp-gate']);
    const monitor = monitors[0];
    if (monitor === undefined) throw new Error('no ServiceMonitor');
    // It selects mcp-gate's Service alone (not Envoy's), in its own namespace.
    const services = ofKind<IService>('monitoring', 'Service').filter((s) =>
      selects(monitor.spec.selector.matchLabels, s.metadata.labels),
    );
    expect(services.map((s) => s.metadata.name)).toEqual(['mcp-gate']);
    const service = services[0];
    const deployment = ofKind<IDeployment>('monitoring', 'Deployment').find((d) =>
      selects(service?.spec?.selector, d.spec?.template.metadata?.labels),
    );
    const container =
      deployment && podSpec(deployment).containers.find((c) => c.name === 'mcp-gate');
    if (container === undefined) throw new Error('no mcp-gate container behind the Service');
    const listen = serveFlags(container)['http-listen'] ?? '';
    for (const endpoint of monitor.spec.endpoints) {
      // The named Service port leads to the container port mcp-gate serves telemetry on.
      const port = service?.spec?.ports?.find((p) => p.name === endpoint.port);
      const containerPort = container.ports?.find(
        (p) => p.name === port?.targetPort || p.containerPort === port?.targetPort,
      );
      expect(listen.endsWith(`:${String(containerPort?.containerPort)}`), endpoint.port).toBe(true);
      const answer = await fetch(
        `http://127.0.0.1:${String(telemetryPort)}${endpoint.path ?? '/metrics'}`,
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
      // The gateway's NetworkPolicy lets the scrape in from other namespaces.
      const admitted = ofKind<INetworkPolicy>('monitoring', 'NetworkPolicy')
        .filter((n) =>
          selects(n.spec?.podSelector.matchLabels, deployment?.spec?.template.metadata?.labels),
        )
        .flatMap((n) => n.spec?.ingress ?? [])
        .filter((rule) => rule.from?.some((f) => f.namespaceSelector !== undefined))
        .flatMap((rule) => rule.ports ?? [])
        .map((p) => p.port);
      expect(admitted).toEqual(expect.arrayContaining([containerPort?.name]));
    }

    const dashboards = ofKind<IConfigMap>('monitoring', 'ConfigMap').filter(
      (c) => c.metadata.labels?.['grafana_dashboard'] === '1',
    );
    expect(dashboards.map((c) => c.metadata.name)).toEqual(['mcp-gate-grafana-dashboard']);
    expect(dashboards[0]?.data?.['mcp-gate.json']).toBe(
      await readFile(path.join(ROOT, 'deploy/grafana/mcp-gate.json'), 'utf8'),
    );

    // The rules the cluster loads are the ones promtool tests (deploy/prometheus/rules.yaml).
    const rules = ofKind<KubeObject & { spec?: { groups?: unknown } }>(
      'monitoring',
      'PrometheusRule',
    );
    expect(rules.map((r) => r.metadata.name)).toEqual(['mcp-gate']);
    const shipped = parse(
      await readFile(path.join(ROOT, 'deploy/prometheus/rules.yaml'), 'utf8'),
    ) as { groups: unknown };
    expect(rules[0]?.spec?.groups).toEqual(shipped.groups);
  });
});
