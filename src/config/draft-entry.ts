/**
 * Writing draft allowlist entries as YAML text, for the commands that print one for a reviewer
 * to start from (`mcp-gate discover`, `mcp-gate vet --draft`). The values come from traffic or
 * from the server under review, so every one is escaped before it is printed: a name cannot end
 * a comment, start a new key, or carry a terminal control sequence. Pure.
 */
import { PLACEHOLDER_PREFIX } from './field-schemas.js';

/** JSON string syntax with every character outside printable ASCII escaped (valid YAML too). */
export function asciiJson(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A name, safe inside a YAML comment or a terminal line: printable ASCII as is, else escaped. */
export function commentSafe(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) ? name : asciiJson(name);
}

/** Text with spaces (a message, a title), each word made safe as commentSafe makes a name. */
export function commentSafeText(text: string): string {
  return text
    .split(' ')
    .map((word) => (word === '' ? '' : commentSafe(word)))
    .join(' ');
}

/**
 * Words a YAML reader may take for a boolean or null rather than a string (YAML 1.2's core
 * schema, and 1.1's yes/no/on/off for readers still on it), so they are always quoted.
 */
const YAML_KEYWORDS = /^(true|false|null|y|n|yes|no|on|off)$/i;

/** A name as an item of a YAML flow sequence: plain when it reads back as that string. */
export function flowName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) && !YAML_KEYWORDS.test(name)
    ? name
    : asciiJson(name);
}

/** A YAML scalar: plain when it is a plain host or URL, else double-quoted (JSON's escapes). */
export function yamlScalar(value: string): string {
  return /^(https:\/\/)?[a-z][a-z0-9.-]*(\/[A-Za-z0-9._~-]+)?$/.test(value) &&
    !YAML_KEYWORDS.test(value)
    ? value
    : JSON.stringify(value);
}

/**
 * An entry id from host and path prefix: lower-case letters, digits, "." "_" "-", at most 64
 * characters, unique among `taken` (which it is added to).
 */
export function draftEntryId(host: string, pathPrefix: string, taken: Set<string>): string {
  const raw = `${host}${pathPrefix === '/' ? '' : `-${pathPrefix.slice(1)}`}`;
  const base =
    raw
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 60)
      .replace(/[._-]+$/, '') || 'server';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

/** The review fields of a draft entry: placeholders that validate refuses until replaced. */
export function placeholderReviewLines(indent: string): string[] {
  return [
    `${indent}review_ticket: ${PLACEHOLDER_PREFIX}ticket`,
    `${indent}reviewed_by: ${PLACEHOLDER_PREFIX}reviewer`,
    `${indent}reviewed_on: ${PLACEHOLDER_PREFIX}YYYY-MM-DD`,
    `${indent}expires_on: ${PLACEHOLDER_PREFIX}YYYY-MM-DD`,
  ];
}
