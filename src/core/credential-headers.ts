/**
 * Request headers that carry credentials. Their values never reach a log line, `explain`
 * output, a deny text or a condition's `headers` variable.
 *
 * Beyond the fixed names, any header whose name contains one of CREDENTIAL_NAME_PARTS counts:
 * vendors carry API keys in headers of their own naming (`x-goog-api-key`, `x-auth-token`,
 * `private-token`), and a header wrongly taken for a credential costs a condition one variable,
 * while the opposite would leak a key.
 */

/** Exact header names (lower-case) that always carry credentials. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
]);

const CREDENTIAL_NAME_PARTS = [
  'auth',
  'token',
  'secret',
  'password',
  'api-key',
  'apikey',
  'cookie',
];

/** Whether a lower-case header name carries a credential. */
export function isCredentialHeader(name: string): boolean {
  if (CREDENTIAL_HEADERS.has(name)) return true;
  for (const part of CREDENTIAL_NAME_PARTS) if (name.includes(part)) return true;
  return false;
}
