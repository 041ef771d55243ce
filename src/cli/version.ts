/**
 * `mcp-gate --version`: the version in the package.json installed beside dist/ (or src/), so an
 * image or a package reports what it was built from without a build step that stamps it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** package.json of this package: two levels up from src/cli or dist/cli. */
const PACKAGE_JSON = path.resolve(import.meta.dirname, '../../package.json');

/** Reads the package version; throws when package.json is missing or has no version. */
export function packageVersion(): string {
  const parsed: unknown = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8'));
  const version =
    typeof parsed === 'object' && parsed !== null && 'version' in parsed
      ? parsed.version
      : undefined;
  if (typeof version !== 'string') throw new Error(`${PACKAGE_JSON} has no version`);
  return version;
}
