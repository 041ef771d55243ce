/**
 * The zod schema of an inventory report (report.ts), with which check reads every REPORT: strict
 * objects (an unknown key is an error), so a report from another tool or a newer format is
 * refused with the path of what does not fit, never half-read. `inventory schema` prints it as
 * JSON Schema for whoever collects reports (a SIEM, a data lake).
 *
 * The schema and the plain types of report.ts must describe the same document:
 * SchemaMatchesReport fails type-checking when they drift apart.
 */
import * as z from 'zod';
import type { InventoryReport } from './report.js';
import {
  CLIENT_IDS,
  CONFIG_SCOPES,
  PLATFORMS,
  PROBLEM_KINDS,
  REPORT_FORMAT,
  SERVER_TRANSPORTS,
} from './report.js';

const position = z.number().int().positive().nullable();

export const FileProblemSchema = z.strictObject({
  kind: z.enum(PROBLEM_KINDS),
  message: z.string(),
  line: position,
  col: position,
});

export const ReportedServerSchema = z.strictObject({
  name: z.string(),
  transport: z.enum(SERVER_TRANSPORTS),
  command: z.string().nullable(),
  args: z.array(z.string()),
  url: z.string().nullable(),
  env: z.array(z.string()),
  headers: z.array(z.string()),
  disabled: z.boolean(),
  project: z.string().nullable(),
});

export const ConfigReportSchema = z.strictObject({
  client: z.enum(CLIENT_IDS),
  scope: z.enum(CONFIG_SCOPES),
  path: z.string().min(1),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  size: z.number().int().nonnegative().nullable(),
  servers: z.array(ReportedServerSchema),
  problems: z.array(FileProblemSchema),
});

export const InventoryReportSchema = z.strictObject({
  format: z.literal(REPORT_FORMAT),
  tool_version: z.string(),
  host: z.string().min(1),
  user: z.string(),
  os: z.strictObject({ platform: z.enum(PLATFORMS), release: z.string(), arch: z.string() }),
  time: z.iso.datetime(),
  configs: z.array(ConfigReportSchema),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type AssertTrue<T extends true> = T;
/** Compile-time guard: the schema's output is exactly InventoryReport (up to readonly). */
export type SchemaMatchesReport = AssertTrue<
  Same<z.output<typeof InventoryReportSchema>, DeepMutable<InventoryReport>>
>;
type DeepMutable<T> = T extends readonly (infer U)[]
  ? DeepMutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
    : T;

/** A report read from a file, or why it is not one. */
export type ReportParse =
  | { readonly ok: true; readonly report: InventoryReport }
  | { readonly ok: false; readonly message: string };

/** Validates parsed JSON as a report; the message names the first field that does not fit. */
export function parseReport(value: unknown): ReportParse {
  const parsed = InventoryReportSchema.safeParse(value);
  if (parsed.success) return { ok: true, report: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
  return { ok: false, message: `not an inventory report (${where}${issue?.message ?? 'invalid'})` };
}

/** The report format as JSON Schema (draft 2020-12). */
export function reportJsonSchema(): unknown {
  return z.toJSONSchema(InventoryReportSchema);
}
