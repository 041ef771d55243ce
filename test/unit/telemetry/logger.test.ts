/**
 * The logger's redaction: every header of SECRET_HEADERS (the list explain also uses) is
 * censored in a logged `headers` object, at the top level and one level down, and nothing else.
 */
import { describe, expect, test } from 'vitest';
import { createLogger, SECRET_HEADERS } from '../../../src/telemetry/logger.js';

function logged(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } });
  logger.info(fields, 'request');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as Record<string, unknown>;
}

describe('createLogger – credentials', () => {
  test.each([...SECRET_HEADERS])('%s is redacted, at the top level and one down', (name) => {
    const headers = { [name]: 'Bearer s3cr3t', accept: 'application/json' };
    const line = logged({ headers, req: { headers } });
    const want = { [name]: '[redacted]', accept: 'application/json' };
    expect(line['headers']).toEqual(want);
    expect(line['req']).toEqual({ headers: want });
    expect(JSON.stringify(line)).not.toContain('s3cr3t');
  });
});
