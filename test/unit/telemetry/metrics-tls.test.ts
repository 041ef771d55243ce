/** mcp_gate_grpc_tls_certificate_expiry_timestamp_seconds (src/telemetry/metrics.ts). */
import { Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { createMetrics } from '../../../src/telemetry/metrics.js';

const NAME = 'mcp_gate_grpc_tls_certificate_expiry_timestamp_seconds';

test('absent until a certificate is recorded (a 0 would fire every expiry alert), then its notAfter in seconds', async () => {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  expect(await registry.metrics()).not.toContain(NAME);

  metrics.recordTlsCertificate(Date.UTC(2027, 0, 31, 12));
  metrics.recordTlsCertificate(Date.UTC(2027, 2, 2, 12));
  const text = await registry.metrics();
  expect(text).toContain(`# TYPE ${NAME} gauge`);
  expect(text).toContain(`\n${NAME} ${String(Date.UTC(2027, 2, 2, 12) / 1000)}\n`);
});
