/**
 * The `grpc-timeout` request header (docs/wire/grpc.md, grpc-timeout): at most 8 ASCII digits
 * and one unit, H (hours), M (minutes), S, m (ms), u (µs) or n (ns). Envoy sends it from the
 * ext_authz `timeout` (e.g. `200m`).
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

const TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/** The timeout in ms, or undefined when the value does not follow the grammar. */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = TIMEOUT.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
}
