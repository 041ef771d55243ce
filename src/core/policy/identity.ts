/**
 * Who a request is from, read from where the allowlist's `identity:` section says, and nowhere
 * else: mcp-gate never guesses an identity.
 *
 * - `header`: set by an authenticating proxy or by Envoy in front of us. Envoy must remove
 *   client-sent copies before that proxy or filter adds its own (the shipped Envoy configs
 *   do); otherwise a client names itself. Envoy joins repeated headers with `,`, so a user
 *   header holding `,` is two values, and is read as no user at all.
 * - `jwt_claim`: a claim of the payload Envoy's `jwt_authn` filter verified and put into dynamic
 *   metadata (`payload_in_metadata`), which ext_authz passes on in `metadata_context`. mcp-gate
 *   does not verify tokens; Envoy does, and only verified payloads reach that metadata.
 * - `peer`: the TLS client certificate Envoy verified: its `principal` as Envoy derives it, or
 *   its first URI SAN (`uri_san`, from `source.certificate`, which needs ext_authz
 *   `include_peer_certificate: true`).
 *
 * Pure apart from a small cache of parsed peer certificates; never throws.
 */
import { X509Certificate } from 'node:crypto';

import type { RequestFacts } from '../facts.js';
import type { JsonValue } from '../mcp/json-rpc-body.js';

/** One place an identity attribute is read from. */
export type IdentitySource =
  | {
      readonly from: 'header';
      /** Lower-case header name. */
      readonly name: string;
      /** For groups: what separates them in the value (default `,`). */
      readonly separator: string | undefined;
    }
  | {
      readonly from: 'jwt_claim';
      /** The claim's path in the payload: `['email']`, or `['realm_access', 'roles']`. */
      readonly claim: readonly string[];
      /** For a groups claim that is one string: what separates them (else it is one group). */
      readonly separator: string | undefined;
    }
  | { readonly from: 'peer'; readonly field: 'principal' | 'uri_san' };

/** The `identity:` section, compiled. */
export interface IdentityConfig {
  readonly user: IdentitySource | undefined;
  readonly groups: IdentitySource | undefined;
  /** Where Envoy's jwt_authn filter put the verified payload. */
  readonly jwt: { readonly namespace: string; readonly payloadKey: string } | undefined;
}

/** The identity of one request. */
export interface Principal {
  /** Undefined when the request names no user (or names one ambiguously). */
  readonly user: string | undefined;
  /** Undefined when the request carries no group information at all. */
  readonly groups: readonly string[] | undefined;
  /** Why a present identity attribute was not taken, for explain and logs. */
  readonly problem: string | undefined;
}

export const NO_PRINCIPAL: Principal = Object.freeze({
  user: undefined,
  groups: undefined,
  problem: undefined,
});

/** Longest user name or group taken; a longer value is not an identity any IdP issues. */
const MAX_IDENTITY_CHARS = 512;
/** Most groups taken from one request; more is refused rather than cut. */
const MAX_GROUPS = 256;

/** Reads the principal of a request. */
export function resolvePrincipal(
  config: IdentityConfig | undefined,
  facts: RequestFacts,
): Principal {
  if (config === undefined || (config.user === undefined && config.groups === undefined)) {
    return NO_PRINCIPAL;
  }
  const problems: string[] = [];
  const user =
    config.user === undefined ? undefined : readUser(config.user, config, facts, problems);
  const groups =
    config.groups === undefined ? undefined : readGroups(config.groups, config, facts, problems);
  return Object.freeze({
    user,
    groups: groups === undefined ? undefined : Object.freeze(groups),
    problem: problems.length === 0 ? undefined : problems.join('; '),
  });
}

function readUser(
  source: IdentitySource,
  config: IdentityConfig,
  facts: RequestFacts,
  problems: string[],
): string | undefined {
  let value: string | undefined;
  switch (source.from) {
    case 'header': {
      const raw = facts.headers.get(source.name);
      if (raw === undefined) return undefined;
      if (raw.includes(',')) {
        problems.push(`header ${source.name} carries more than one value`);
        return undefined;
      }
      value = raw.trim();
      break;
    }
    case 'jwt_claim': {
      const claim = jwtClaim(source.claim, config, facts);
      if (claim === undefined) return undefined;
      if (typeof claim !== 'string') {
        problems.push(`claim ${source.claim.join('.')} is not a string`);
        return undefined;
      }
      value = claim.trim();
      break;
    }
    case 'peer':
      value = source.field === 'principal' ? facts.peerPrincipal : firstUriSan(facts);
      break;
  }
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_IDENTITY_CHARS) {
    problems.push(`user longer than ${MAX_IDENTITY_CHARS} characters`);
    return undefined;
  }
  return value;
}

function readGroups(
  source: IdentitySource,
  config: IdentityConfig,
  facts: RequestFacts,
  problems: string[],
): string[] | undefined {
  let groups: string[];
  switch (source.from) {
    case 'header': {
      const raw = facts.headers.get(source.name);
      if (raw === undefined) return undefined;
      groups = splitGroups(raw, source.separator ?? ',');
      break;
    }
    case 'jwt_claim': {
      const claim = jwtClaim(source.claim, config, facts);
      if (claim === undefined) return undefined;
      if (typeof claim === 'string') {
        groups =
          source.separator === undefined ? [claim.trim()] : splitGroups(claim, source.separator);
      } else if (Array.isArray(claim)) {
        groups = [];
        for (const item of claim as readonly JsonValue[]) {
          // A group that is not a string is never matched; the others still count.
          if (typeof item === 'string' && item.trim() !== '') groups.push(item.trim());
        }
      } else {
        problems.push(`claim ${source.claim.join('.')} is neither a string nor a list`);
        return undefined;
      }
      break;
    }
    case 'peer': {
      const value = source.field === 'principal' ? facts.peerPrincipal : firstUriSan(facts);
      if (value === undefined || value === '') return undefined;
      groups = [value];
      break;
    }
  }
  if (groups.length > MAX_GROUPS || groups.some((g) => g.length > MAX_IDENTITY_CHARS)) {
    problems.push(`more than ${MAX_GROUPS} groups, or a group longer than ${MAX_IDENTITY_CHARS}`);
    return undefined;
  }
  return groups;
}

function splitGroups(value: string, separator: string): string[] {
  const groups: string[] = [];
  for (const part of value.split(separator)) {
    const group = part.trim();
    if (group !== '') groups.push(group);
  }
  return groups;
}

/** The claim at `path` in the verified JWT payload, or undefined. */
function jwtClaim(
  path: readonly string[],
  config: IdentityConfig,
  facts: RequestFacts,
): JsonValue | undefined {
  if (config.jwt === undefined) return undefined;
  const namespace = facts.metadata.get(config.jwt.namespace);
  if (namespace === undefined) return undefined;
  let value: JsonValue | undefined = ownMember(namespace, config.jwt.payloadKey);
  for (const key of path) {
    if (value === undefined) return undefined;
    value = ownMember(value, key);
  }
  return value;
}

function ownMember(value: JsonValue, key: string): JsonValue | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const object = value as Readonly<Record<string, JsonValue>>;
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

// Parsing a certificate costs far more than a Check; a proxy sees few distinct client
// certificates, so the last ones are kept. Bounded: cleared when full.
const SAN_CACHE_SIZE = 256;
const sanCache = new Map<string, string | undefined>();

/** The first URI SAN of the peer certificate, or undefined (none sent, none in it, unreadable). */
function firstUriSan(facts: RequestFacts): string | undefined {
  const encoded = facts.peerCertificate;
  if (encoded === '') return undefined;
  if (sanCache.has(encoded)) return sanCache.get(encoded);
  let uri: string | undefined;
  try {
    const san = new X509Certificate(decodeURIComponent(encoded)).subjectAltName ?? '';
    uri = firstUri(san);
  } catch {
    uri = undefined;
  }
  if (sanCache.size >= SAN_CACHE_SIZE) sanCache.clear();
  sanCache.set(encoded, uri);
  return uri;
}

/**
 * The first `URI:` entry of Node's subjectAltName text (`DNS:a, URI:spiffe://x`). Node writes a
 * value holding a separator as a JSON string (`URI:"a, b"`), so such values are parsed as JSON.
 */
function firstUri(san: string): string | undefined {
  let rest = san;
  while (rest !== '') {
    let entry: string;
    const quoted = /^([A-Za-z ]+):"/.exec(rest);
    let value: string;
    if (quoted !== null) {
      const close = findClosingQuote(rest, quoted[0].length);
      if (close < 0) return undefined;
      try {
        value = JSON.parse(rest.slice(quoted[0].length - 1, close + 1)) as string;
      } catch {
        return undefined;
      }
      entry = quoted[1] ?? '';
      rest = rest.slice(close + 1).replace(/^, /, '');
    } else {
      const comma = rest.indexOf(', ');
      const part = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma + 2);
      const colon = part.indexOf(':');
      if (colon < 0) continue;
      entry = part.slice(0, colon);
      value = part.slice(colon + 1);
    }
    if (entry === 'URI') return value;
  }
  return undefined;
}

function findClosingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i;
  }
  return -1;
}
