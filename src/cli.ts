/**
 * The command line: `mcp-gate <command>` (USAGE lists them). Each command returns an exit code;
 * only main.ts turns it into process.exit.
 */
import { DISCOVER_USAGE, readStdin, runDiscover } from './cli/discover.js';
import { EXPIRING_USAGE, runExpiring } from './cli/expiring.js';
import { EXPLAIN_USAGE, runExplain } from './cli/explain.js';
import { INVENTORY_USAGE, runInventory } from './cli/inventory.js';
import { RENDER_ENVOY_USAGE, runRenderEnvoy } from './cli/render-envoy.js';
import type { CliIo } from './cli/io.js';
import { ISSUE_CERTS_USAGE, runIssueCerts } from './cli/issue-certs.js';
import { SERVE_USAGE, runServe } from './cli/serve.js';
import { runSign, SIGN_USAGE } from './cli/sign.js';
import { runStamp } from './cli/stamp.js';
import { runValidate, VALIDATE_USAGE } from './cli/validate.js';
import { VET_USAGE, runVet } from './cli/vet.js';
import { packageVersion } from './cli/version.js';

export const USAGE = `mcp-gate: Envoy external authorization for Model Context Protocol traffic

usage: mcp-gate <command> [options]
       mcp-gate --version

commands:
  serve     --allowlist FILE [--known-hosts FILE] [--grpc-listen HOST:PORT|unix:PATH] [--http-listen HOST:PORT]
            run the ext_authz gRPC service (see mcp-gate serve --help)
  validate  FILE... [--strict] [--reviewers FILE] [--now ISO-DATE]
            check allowlists (or known-host lists, reviewers files); problems as FILE:LINE:COL message; exit 1 if invalid
  explain   --allowlist FILE --request FILE [--known-hosts FILE] [--now ISO-DATE]
            print the decision for one CheckRequest (proto3 JSON)
  stamp     FILE [--id ID]
            write review_sha256 into approved entries, keeping comments and layout
  sign      FILE --id ID --key KEY [--as NAME] [--reviewers FILE]
            write a reviewer's Ed25519 signature into an entry (serve --reviewers requires it)
  expiring  FILE... [--within 30d] [--json] [--now ISO-DATE]
            list approvals by days to expiry, with ticket and reviewer, for renewal reminders
  render-envoy --allowlist FILE --out DIR [--known-hosts FILE] [--certs-dir DIR] [--cert-manager-issuer NAME]
            write Envoy's interception config (lds, cds, rds, sds) for the allowlist's inspection set
  discover  [FILE...] [--top N]
            draft allowlist entries for the most-tried unapproved servers, from GET /discovery JSON or audit lines
  issue-certs --allowlist FILE --ca-cert FILE --ca-key FILE --out DIR [--days 90] [--renew-before-days 30]
            issue and rotate the interception certificates (tls.crt, tls.key) from a CA; --create-ca DIR for a trial CA
  vet       URL [--json] [--draft] [--min-cert-days 30] [--timeout 10000] [--ca FILE] [--header NAME:VALUE]
            intake check of a candidate MCP server: TLS, HSTS, plaintext refused, MCP handshake and tools
  inventory scan [--home DIR] [--project DIR]... | check REPORT... --allowlist FILE [--json] | schema
            list the MCP servers configured on this machine; judge such reports against the allowlist

${SERVE_USAGE}

${VALIDATE_USAGE}

${SIGN_USAGE}

${EXPIRING_USAGE}

${EXPLAIN_USAGE}

${RENDER_ENVOY_USAGE}

${ISSUE_CERTS_USAGE}

${DISCOVER_USAGE}

${VET_USAGE}

${INVENTORY_USAGE}`;

/** Runs one command line; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest, io);
    case 'validate':
      return runValidate(rest, io);
    case 'explain':
      return runExplain(rest, io);
    case 'stamp':
      return runStamp(rest, io);
    case 'sign':
      return runSign(rest, io);
    case 'expiring':
      return runExpiring(rest, io);
    case 'render-envoy':
      return runRenderEnvoy(rest, io);
    case 'issue-certs':
      return runIssueCerts(rest, io);
    case 'discover':
      return runDiscover(rest, { ...io, stdin: readStdin });
    case 'vet':
      return runVet(rest, io);
    case 'inventory':
      return runInventory(rest, io);
    case '--version':
    case '-v':
      io.stdout(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`mcp-gate: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
      return 2;
  }
}
