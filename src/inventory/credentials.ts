/**
 * Which environment variable and header names look like they carry a credential, for check's
 * list of credentials handed to unapproved servers. Only names are ever judged: values never
 * leave the machine.
 *
 * The rule (docs/inventory.md): the name is split into words at every character that is not a
 * letter or digit and between a lower-case letter and an upper-case one (`GITHUB_TOKEN`,
 * `x-api-key`, `apiKey`). It looks like a credential when a word, upper-cased, is one of
 * CREDENTIAL_WORDS, or ends with one of CREDENTIAL_SUFFIXES (`GHTOKEN`, `APIKEY`, `OAUTH`,
 * `DBPASSWORD`). Case-insensitive by construction. Pure.
 */

/** Words that name a credential on their own. */
export const CREDENTIAL_WORDS: ReadonlySet<string> = new Set([
  'AUTHORIZATION',
  'BEARER',
  'COOKIE',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'JWT',
  'PASS',
  'PASSPHRASE',
  'PASSWD',
  'PAT',
  'SESSION',
]);

/** Endings that make a word a credential (`TOKEN`, `ACCESSTOKEN`, `SECRETS`...). */
export const CREDENTIAL_SUFFIXES = [
  'AUTH',
  'KEY',
  'KEYS',
  'PASSWORD',
  'SECRET',
  'SECRETS',
  'TOKEN',
  'TOKENS',
] as const;

/** The words of a name, upper-cased. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word.toUpperCase());
}

/** Whether an environment variable or header name looks like it carries a credential. */
export function looksLikeCredential(name: string): boolean {
  return nameWords(name).some(
    (word) =>
      CREDENTIAL_WORDS.has(word) || CREDENTIAL_SUFFIXES.some((suffix) => word.endsWith(suffix)),
  );
}
