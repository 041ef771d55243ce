/**
 * The text a person sees when mcp-gate denies: the template for the reason with its
 * placeholders filled, and the review link. Pure.
 *
 * Values we echo come from the request (host, tool), so they are made safe to show: control
 * characters (CR/LF above all) are escaped, length is capped, and the strings that make MCP
 * clients misbehave ("404", "405", "Unauthorized", "Not Found": transport fallback or an OAuth
 * sign-in, docs/wire/mcp.md, Answers to avoid) are broken with a zero-width space. In the review
 * link's query the same strings are prevented by percent-encoding (see encodeQueryValue).
 */
import type { DenyReason } from './policy/policy.js';

const MAX_ECHO_LENGTH = 200;
const ZERO_WIDTH_SPACE = '\u200b';
/** Control characters, line and paragraph separators, and lone UTF-16 surrogates. */
const ECHO_ESCAPED =
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const TRIGGER_WORDS = /(40)([45])|(U)(nauthorized)|(N)(ot Found)|(M)(ethod Not Allowed)/gi;

export interface DenyMessageInput {
  readonly template: string;
  readonly reason: DenyReason;
  /** Entry id, or the host when no entry matched. */
  readonly server: string;
  readonly host: string;
  readonly tool: string | undefined;
  /** The description of the condition that did not hold, if that was the reason. */
  readonly condition?: string | undefined;
  readonly reviewUrl: string;
  readonly entryId: string | undefined;
  readonly decisionId: string;
}

/** Fills a deny template. Unknown placeholders were rejected when the allowlist loaded. */
export function renderDenyMessage(input: DenyMessageInput): string {
  const link = reviewLink(input);
  const values: Record<string, string> = {
    server: safeEcho(input.server),
    host: safeEcho(input.host),
    tool: safeEcho(input.tool ?? ''),
    review_url: link,
    reason: input.reason,
    condition: safeEcho(input.condition ?? ''),
  };
  return input.template.replace(
    /\{(server|host|tool|review_url|reason|condition)\}/g,
    (_, key: string) => values[key] ?? '',
  );
}

/**
 * The review link: `review_url` extended with what the reviewer needs. An existing query string
 * is kept and extended; a fragment stays at the end.
 */
export function reviewLink(input: {
  readonly reviewUrl: string;
  readonly host: string;
  readonly tool: string | undefined;
  readonly entryId: string | undefined;
  readonly decisionId: string;
}): string {
  const params: [string, string][] = [['host', input.host]];
  if (input.tool !== undefined) params.push(['tool', input.tool]);
  if (input.entryId !== undefined) params.push(['entry', input.entryId]);
  params.push(['decision', input.decisionId]);
  const query = params
    .map(([key, value]) => `${key}=${encodeQueryValue(value.slice(0, MAX_ECHO_LENGTH))}`)
    .join('&');
  const hashAt = input.reviewUrl.indexOf('#');
  const base = hashAt === -1 ? input.reviewUrl : input.reviewUrl.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : input.reviewUrl.slice(hashAt);
  const separator = base.includes('?')
    ? base.endsWith('?') || base.endsWith('&')
      ? ''
      : '&'
    : '?';
  return `${base}${separator}${query}${fragment}`;
}

function encodeQueryValue(value: string): string {
  // Digits are always percent-encoded, so the only digits left in the link are inside %XX
  // triplets, and no triplet can be followed by a digit: the link can never spell "404" or
  // "405". The portal decodes the exact value.
  let encoded = '';
  for (const char of value) {
    if (isLoneSurrogate(char)) {
      // encodeURIComponent throws on a lone surrogate; U+FFFD is what a UTF-8 decoder makes of it.
      encoded += '%EF%BF%BD';
      continue;
    }
    encoded += /[0-9]/.test(char)
      ? `%3${char}`
      : encodeURIComponent(char).replace(
          /[!'()*]/g,
          (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        );
  }
  return encoded.replace(
    /unauthorized/gi,
    (word) => `%${word.charCodeAt(0).toString(16).toUpperCase()}${word.slice(1)}`,
  );
}

function isLoneSurrogate(char: string): boolean {
  const c = char.charCodeAt(0);
  return char.length === 1 && c >= 0xd800 && c <= 0xdfff;
}

/** Makes a request-supplied value safe to place in a deny text. */
export function safeEcho(value: string): string {
  return defang(escapeUnsafe(value));
}

/**
 * Caps a request-supplied value and escapes what must never leave mcp-gate raw: control
 * characters (CR/LF could forge a line in a plain-text access log), line separators, and lone
 * surrogates (protobuf strings must be valid UTF-8, and Envoy rejects a CheckResponse that is
 * not; the cap can also split a surrogate pair).
 */
export function escapeUnsafe(value: string): string {
  const text = value.length > MAX_ECHO_LENGTH ? `${value.slice(0, MAX_ECHO_LENGTH)}…` : value;
  return text.replace(ECHO_ESCAPED, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Breaks the strings MCP clients react to with a zero-width space after their first char. */
export function defang(text: string): string {
  return text.replace(TRIGGER_WORDS, (match: string) => {
    return `${match.slice(0, 1)}${ZERO_WIDTH_SPACE}${match.slice(1)}`;
  });
}
