import { expect, test } from 'vitest';
import { looksLikeCredential, nameWords } from '../../../src/inventory/credentials.js';

const CREDENTIAL = [
  'GITHUB_TOKEN',
  'GITHUB_PERSONAL_ACCESS_TOKEN',
  'OPENAI_API_KEY',
  'apiKey',
  'x-api-key',
  'Authorization',
  'AWS_SECRET_ACCESS_KEY',
  'DB_PASSWORD',
  'PGPASSWORD',
  'SLACK_BOT_TOKEN',
  'GHTOKEN',
  'client_secret',
  'OAUTH',
  'NPM_AUTH',
  'ATLASSIAN_PAT',
  'SESSION_COOKIE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'passphrase',
  'JWT',
];
const NOT_CREDENTIAL = [
  'PATH',
  'HOME',
  'LOG_LEVEL',
  'AUTHOR_NAME',
  'PWD',
  'NODE_ENV',
  'X-Team',
  'DEBUG',
  'PATTERN',
];

test.each(CREDENTIAL)('%s looks like a credential', (name) => {
  expect(looksLikeCredential(name)).toBe(true);
});

test.each(NOT_CREDENTIAL)('%s does not', (name) => {
  expect(looksLikeCredential(name)).toBe(false);
});

test('words split at separators and lower-to-upper case changes', () => {
  expect(nameWords('x-api-key')).toEqual(['X', 'API', 'KEY']);
  expect(nameWords('githubAccessToken')).toEqual(['GITHUB', 'ACCESS', 'TOKEN']);
  expect(nameWords('AWS_SECRET_ACCESS_KEY')).toEqual(['AWS', 'SECRET', 'ACCESS', 'KEY']);
});
