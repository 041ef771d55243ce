/**
 * Authorities of CONNECT tunnels, read by mcp-gate and by the readers that decide where the
 * tunnel goes: the WHATWG URL parser (Node's `URL`, what Node clients and servers use) and Envoy's
 * authority parser as its source reads (restated here from its rules, since no Envoy binary runs
 * in CI): the port is what follows the last `:` unless the authority ends in `]`, read as a
 * number with an optional sign and surrounding spaces, at most 65535; anything else leaves the
 * whole authority as the host to resolve.
 *
 * The property: whichever host a reader reaches, mcp-gate never lets a tunnel to a known MCP
 * host through, never approves one entry while a reader reaches another host, and never repeats
 * a password given in the authority.
 */
import fc from 'fast-check';
import type { PolicySnapshot } from '../../src/core/pipeline.js';
import { authorize } from '../../src/core/pipeline.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { auditRecord } from '../../src/telemetry/logger.js';
import { NOW } from '../adversarial/requests.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';

const KNOWN = 'mcp.linear.app';
const APPROVED = 'api.githubcopilot.com';
const PASSWORD = 'hunter2';

export const authority: fc.Arbitrary<string> = fc
  .record({
    userinfo: fc.constantFrom('', '', '', 'x@', `alice:${PASSWORD}@`, `${APPROVED}@`),
    host: fc.constantFrom(KNOWN, APPROVED, 'other.example', 'MCP.Linear.APP'),
    dots: fc.constantFrom('', '', '.', '..'),
    port: fc.constantFrom(
      '',
      ':443',
      ':443',
      ':0443',
      ':000443',
      ':',
      ':+443',
      ':-443',
      ':443:443',
      ':65536',
      ':0',
      ': 443',
      ':443 ',
      ':0x1bb',
      ':\uff14\uff14\uff13',
    ),
  })
  .map(({ userinfo, host, dots, port }) => `${userinfo}${host}${dots}${port}`);

/** Hosts a reader would connect to, lower-cased without one trailing dot; undefined: refused. */
export function readersOf(text: string): { reader: string; host: string | undefined }[] {
  return [
    { reader: 'whatwg-url', host: whatwgHost(text) },
    { reader: 'envoy-authority', host: envoyHost(text) },
  ];
}

function whatwgHost(text: string): string | undefined {
  try {
    const url = new URL(`https://${text}/`);
    return canonical(url.hostname);
  } catch {
    return undefined;
  }
}

function envoyHost(text: string): string | undefined {
  // A resolver never sees userinfo as part of the name: it reaches what follows the last `@`.
  const at = text.lastIndexOf('@');
  const hostPort = at < 0 ? text : text.slice(at + 1);
  const colon = hostPort.lastIndexOf(':');
  let host = hostPort;
  if (colon >= 0 && !hostPort.endsWith(']')) {
    const port = hostPort.slice(colon + 1);
    if (/^\s*[+-]?\d+\s*$/.test(port) && Number(port.trim()) <= 65535) {
      host = hostPort.slice(0, colon);
    }
  }
  // A name with an empty label (`a..b`, `a..`) does not resolve.
  const name = canonical(host);
  return name === undefined || /(^|\.)\./.test(name) || name.includes(':') ? undefined : name;
}

function canonical(host: string): string | undefined {
  if (host === '') return undefined;
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** What is wrong with mcp-gate's answer to a CONNECT to `text`, or undefined. */
export function authorityFinding(snapshot: PolicySnapshot, text: string): string | undefined {
  const facts = toRequestFacts(envoyCheckRequest({ method: 'CONNECT', authority: text }));
  const { decision, inspection } = authorize(snapshot, facts, NOW, 'differential');
  const echoed = JSON.stringify([
    decision.server,
    decision.explanation,
    auditRecord(decision, facts, inspection, 0),
  ]);
  if (echoed.includes(PASSWORD))
    return `the password reaches the decision or audit line: ${echoed}`;
  if (decision.verdict === 'deny') return undefined;
  for (const { reader, host } of readersOf(text)) {
    if (host === undefined) continue;
    if (host === KNOWN) {
      return `${reader} reaches the known MCP host ${KNOWN}; mcp-gate answered allow ${decision.reason}`;
    }
    if (decision.reason === 'approved' && host !== APPROVED) {
      return `${reader} reaches ${host}; mcp-gate approved it as ${APPROVED}`;
    }
  }
  return undefined;
}
