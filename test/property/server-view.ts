/**
 * What a real MCP server may read from a request: the reference the security properties judge
 * mcp-gate against, written without src/core/mcp so that a blind spot there cannot hide here.
 *
 * Two server profiles, from the SDKs' own request handling (read in node_modules):
 * - `raw`: the TypeScript SDK's web-standard Streamable HTTP transport (also behind its Node
 *   wrapper). It ignores Content-Encoding and the charset parameter, decodes the bytes with a
 *   default TextDecoder (UTF-8, invalid bytes become U+FFFD, one leading BOM dropped) and calls
 *   JSON.parse (the last duplicate key wins). A batch of up to 100 messages is accepted when every
 *   element is a valid JSON-RPC message. The Python SDK likewise ignores Content-Encoding.
 * - `decoding`: an Express app with body-parser's json() in front of the SDK (`parsedBody`): it
 *   undoes one coding, `gzip`, `deflate` (zlib format) or `br` (a list or any other name is
 *   refused), decodes by the charset parameter (UTF-8 by default, UTF-16 accepted), drops a BOM
 *   and calls JSON.parse.
 * 2026-07-28 servers reject a request whose `Mcp-Method`/`Mcp-Name` disagree with the body or
 * that lacks `Mcp-Method` (SEP-2243); older servers ignore those headers.
 *
 * A message counts only when it is one a server would route: an object with `jsonrpc: "2.0"`, a
 * string method and params absent or an object. `initialize` is MCP's only when it declares
 * `params.protocolVersion` (LSP's `initialize` does not, and an MCP server refuses it).
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** Every JSON-RPC method MCP defines, 2024-11-05 to 2026-07-28 (docs/wire/mcp.md, Methods). */
export const REFERENCE_MCP_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'server/discover',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'subscriptions/listen',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'roots/list',
  'elicitation/create',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'tasks/update',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/elicitation/complete',
  'notifications/tasks/status',
  'notifications/subscriptions/acknowledged',
]);

/** The request as the client sent it (before Envoy): what the upstream server receives. */
export interface ClientRequest {
  readonly method: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | undefined;
}

/** One JSON-RPC message a server would act on. */
export interface ServerMessage {
  readonly method: string;
  /** `tools/call` params.name, when the message is a call the server would execute. */
  readonly tool: string | undefined;
  readonly isMcp: boolean;
}

export type ServerProfile = 'raw' | 'decoding';

export interface ServerView {
  readonly profile: ServerProfile;
  readonly messages: readonly ServerMessage[];
}

/** The last value of a header, as servers that keep one value per name read it. */
export function headerValues(request: ClientRequest, name: string): string[] {
  return request.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
}

/** Whether the client sent any MCP request header, whatever its value. */
export function hasMcpHeader(request: ClientRequest): boolean {
  return request.headers.some(([key]) => {
    const name = key.toLowerCase();
    return (
      name === 'mcp-protocol-version' ||
      name === 'mcp-session-id' ||
      name === 'mcp-method' ||
      name === 'mcp-name' ||
      name.startsWith('mcp-param-')
    );
  });
}

/** The views of every profile that accepts the request (empty when none does). */
export function serverViews(request: ClientRequest): ServerView[] {
  if (request.method.toUpperCase() !== 'POST' || request.body === undefined) return [];
  const views: ServerView[] = [];
  for (const profile of ['raw', 'decoding'] as const) {
    const text = profile === 'raw' ? rawText(request.body) : decodedText(request);
    if (text === undefined) continue;
    const parsed = parseMessages(text);
    if (parsed === undefined) continue;
    if (!headersAgree(request, parsed.messages, parsed.batch)) continue;
    views.push({ profile, messages: parsed.messages.map(({ message }) => message) });
  }
  return views;
}

/** True when some profile reads an MCP method from the body. */
export function serverSeesMcp(request: ClientRequest): boolean {
  return serverViews(request).some((view) => view.messages.some((m) => m.isMcp));
}

/** Every tool name some profile would execute. */
export function toolsServerWouldCall(request: ClientRequest): string[] {
  const tools = new Set<string>();
  for (const view of serverViews(request)) {
    for (const message of view.messages) if (message.tool !== undefined) tools.add(message.tool);
  }
  return [...tools];
}

function rawText(body: Uint8Array): string {
  return new TextDecoder().decode(body);
}

function decodedText(request: ClientRequest): string | undefined {
  let bytes: Uint8Array = request.body ?? new Uint8Array(0);
  // body-parser reads the whole header as one coding name: no lists, no x-gzip.
  const coding = (headerValues(request, 'content-encoding').join(', ') || 'identity').toLowerCase();
  try {
    if (coding === 'gzip') bytes = gunzipSync(bytes);
    else if (coding === 'deflate') bytes = inflateSync(bytes);
    else if (coding === 'br') bytes = brotliDecompressSync(bytes);
    else if (coding !== 'identity') return undefined;
  } catch {
    return undefined;
  }
  const contentType = headerValues(request, 'content-type').join(',');
  const charset =
    /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase() ?? 'utf-8';
  const label = charset === 'utf8' ? 'utf-8' : charset;
  if (!['utf-8', 'utf-16', 'utf-16le', 'utf-16be'].includes(label)) return undefined;
  try {
    return new TextDecoder(label === 'utf-16' ? 'utf-16le' : label).decode(bytes);
  } catch {
    return undefined;
  }
}

interface ParsedMessage {
  readonly message: ServerMessage;
  readonly name: string | undefined;
  readonly isRequest: boolean;
}

function parseMessages(
  text: string,
): { readonly messages: ParsedMessage[]; readonly batch: boolean } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const elements: unknown[] = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && (value.length === 0 || value.length > 100)) return undefined;
  const messages: ParsedMessage[] = [];
  for (const element of elements) {
    const message = readMessage(element);
    // One invalid element makes the SDK refuse the whole body.
    if (message === undefined) return undefined;
    if (message !== 'response') messages.push(message);
  }
  return { messages, batch: Array.isArray(value) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readMessage(element: unknown): ParsedMessage | 'response' | undefined {
  if (!isRecord(element) || element['jsonrpc'] !== '2.0') return undefined;
  const method = element['method'];
  if (method === undefined) {
    return 'id' in element && ('result' in element || 'error' in element) ? 'response' : undefined;
  }
  if (typeof method !== 'string') return undefined;
  const params = element['params'];
  if (params !== undefined && !isRecord(params)) return undefined;
  const id = element['id'];
  const isRequest = typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id));
  if ('id' in element && !isRequest && id !== null) return undefined;
  let isMcp = REFERENCE_MCP_METHODS.has(method);
  if (method === 'initialize') isMcp = typeof params?.['protocolVersion'] === 'string';
  const nameField = method === 'resources/read' ? params?.['uri'] : params?.['name'];
  const name = typeof nameField === 'string' ? nameField : undefined;
  const tool = method === 'tools/call' && isRequest ? name : undefined;
  return { message: { method, tool, isMcp }, name, isRequest };
}

/**
 * SEP-2243: a 2026-07-28 server refuses headers that disagree with the body, and refuses batches
 * (checked against @modelcontextprotocol/server 2.4.0's createMcpHandler, which answers both with
 * 400 and runs nothing).
 */
function headersAgree(
  request: ClientRequest,
  messages: readonly ParsedMessage[],
  batch: boolean,
): boolean {
  const version = headerValues(request, 'mcp-protocol-version').join(',').trim();
  if (version < '2026-07-28' || !/^\d{4}-\d{2}-\d{2}$/.test(version)) return true;
  if (batch) return false;
  const first = messages[0];
  if (first === undefined) return true;
  const method = headerValues(request, 'mcp-method');
  if (method.length === 0) return !first.isRequest;
  if (decodeHeader(method.join(', ')) !== first.message.method) return false;
  if (!['tools/call', 'prompts/get', 'resources/read'].includes(first.message.method)) return true;
  const name = headerValues(request, 'mcp-name');
  return name.length > 0 && decodeHeader(name.join(', ')) === first.name;
}

function decodeHeader(raw: string): string {
  const value = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (value.startsWith('=?base64?') && value.endsWith('?=') && value.length >= 11) {
    return Buffer.from(value.slice(9, -2), 'base64').toString('utf8');
  }
  return value;
}
