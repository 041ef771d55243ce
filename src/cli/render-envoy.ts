/**
 * `mcp-gate render-envoy --allowlist FILE --out DIR [...]`: renders Envoy's interception side
 * for the allowlist's inspection set (src/envoy-render/render.ts describes the files) and writes
 * it into DIR, each file atomically. The allowlist and known-host list go through exactly the
 * loader the service uses, so a file serve would refuse renders nothing.
 */
import { loadPolicyForCommand } from '../config/load-policy.js';
import { inspectionSet } from '../core/policy/inspection-set.js';
import { parseIssuer } from '../envoy-render/certificates.js';
import {
  DEFAULT_CA_BUNDLE,
  DEFAULT_CERTS_DIR,
  DEFAULT_DYNAMIC_DIR,
  DEFAULT_MCP_GATE_CLIENT_DIR,
} from '../envoy-render/layout.js';
import { identityHeaderNames } from '../envoy-render/fragments.js';
import { renderEnvoy } from '../envoy-render/render.js';
import { writeRenderedFiles } from '../envoy-render/write.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';

export const RENDER_ENVOY_USAGE = `usage: mcp-gate render-envoy --allowlist FILE --out DIR [--known-hosts FILE]
                            [--certs-dir DIR] [--dynamic-dir DIR] [--ca-bundle FILE] [--mcp-gate-client-dir DIR]
                            [--cert-manager-issuer NAME [--cert-manager-issuer-kind Issuer|ClusterIssuer]]

Writes Envoy's interception config for the allowlist's inspection set into DIR: lds.yaml,
cds.yaml, rds.yaml, sds/<name>.yaml and, with an issuer, certificates.yaml (cert-manager).
Paths inside the files are as the Envoy container sees them:
  --dynamic-dir  where Envoy reads the rendered files (default ${DEFAULT_DYNAMIC_DIR})
  --certs-dir    interception certificates, <name>/tls.crt and tls.key (default ${DEFAULT_CERTS_DIR})
  --ca-bundle    CAs that verify the real servers (default ${DEFAULT_CA_BUNDLE})
  --mcp-gate-client-dir  Envoy's client certificate for mcp-gate and mcp-gate's CA, tls.crt,
                 tls.key and ca.crt (gateway layout; default ${DEFAULT_MCP_GATE_CLIENT_DIR})
--known-hosts defaults to the list bundled with mcp-gate, as serve does; "none" uses no list.
Exit status: 0 written, 1 invalid allowlist or write failure, 2 usage error.`;

/** Runs render-envoy; resolves with the exit code. */
export async function runRenderEnvoy(args: string[], io: CliIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        allowlist: { type: 'string' },
        'known-hosts': { type: 'string' },
        out: { type: 'string' },
        'certs-dir': { type: 'string', default: DEFAULT_CERTS_DIR },
        'dynamic-dir': { type: 'string', default: DEFAULT_DYNAMIC_DIR },
        'ca-bundle': { type: 'string', default: DEFAULT_CA_BUNDLE },
        'mcp-gate-client-dir': { type: 'string', default: DEFAULT_MCP_GATE_CLIENT_DIR },
        'cert-manager-issuer': { type: 'string' },
        'cert-manager-issuer-kind': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    },
    RENDER_ENVOY_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values } = flags;
  if (values.allowlist === undefined || values.out === undefined) {
    io.stderr(`--allowlist and --out are required\n${RENDER_ENVOY_USAGE}\n`);
    return 2;
  }
  const issuer = parseIssuer(values['cert-manager-issuer'], values['cert-manager-issuer-kind']);
  if (typeof issuer === 'string') {
    io.stderr(`${issuer}\n`);
    return 2;
  }
  const loaded = await loadPolicyForCommand(values.allowlist, values['known-hosts'], io.now);
  if (!loaded.ok) {
    for (const line of loaded.errors) io.stderr(`${line}\n`);
    io.stderr('render-envoy: nothing written: the allowlist is invalid\n');
    return 1;
  }
  const { policy } = loaded;
  const hosts = inspectionSet(policy);
  const files = renderEnvoy(hosts, {
    certsDir: values['certs-dir'],
    dynamicDir: values['dynamic-dir'],
    caBundle: values['ca-bundle'],
    mcpGateClientDir: values['mcp-gate-client-dir'],
    issuer,
    identityHeaders: identityHeaderNames(policy.identity),
  });
  try {
    const { written, removed } = await writeRenderedFiles(values.out, files);
    io.stdout(
      `${values.out}: ${String(hosts.length)} intercepted host pattern(s)` +
        `${hosts.length === 0 ? '' : ` (${hosts.map((h) => h.host).join(', ')})`}; ` +
        `${String(written.length)} file(s) written, ${String(removed.length)} removed\n`,
    );
    return 0;
  } catch (err: unknown) {
    io.stderr(`render-envoy: cannot write ${values.out}: ${(err as Error).message}\n`);
    return 1;
  }
}
