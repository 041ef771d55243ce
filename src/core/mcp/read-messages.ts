/**
 * Message reading: a parsed JSON-RPC body → the McpMessage list, with whether any element names
 * an MCP method and the first reason an element is not a well-formed message.
 *
 * Members are found as a Go server finds them (json-key.ts), arrays nested in a batch are
 * searched for MCP messages, and `initialize` counts as MCP only with `params.protocolVersion`
 * (LSP's has none). Pure and total: no I/O, no clock, never throws.
 */
import type { McpMessage } from './inspection.js';
import { foldJsonKey, foldedLength } from './json-key.js';
import type { JsonObject, JsonValue } from './json-rpc-body.js';
import { showsJsonRpcSignal } from './json-rpc-signal.js';
import { MCP_METHODS, META_PREFIX } from './methods.js';

/** The reserved `_meta` keys read on every message, built once. */
const META_PROTOCOL_VERSION = `${META_PREFIX}protocolVersion`;
const META_CLIENT_INFO = `${META_PREFIX}clientInfo`;

/** What the elements of one body hold, read in body order. */
export interface ReadMessages {
  readonly messages: readonly McpMessage[];
  /** True when any element (or an array nested in the batch) names an MCP method. */
  readonly mcpByBody: boolean;
  /** Why the first element that is not a well-formed message is not one; undefined if all are. */
  readonly malformed: string | undefined;
  /** True when any element is an object with a `jsonrpc` member, whatever its value. */
  readonly jsonRpcShaped: boolean;
}

/**
 * Reads every element of a body (the value itself, or a batch's members). `topLevelIds` are the
 * raw id texts from json-rpc-body.ts and `argumentDuplicates` its repeated-argument-key flags;
 * `maxNested` bounds the values searched in nested arrays; `text` is the body, asked for a
 * JSON-RPC signal when that bound is reached.
 */
export function readMessages(
  elements: readonly JsonValue[],
  topLevelIds: readonly (string | undefined)[],
  argumentDuplicates: readonly boolean[],
  maxNested: number,
  text: string,
): ReadMessages {
  const jsonRpcShaped = elements.some((e) => isObject(e) && hasMember(e, 'jsonrpc'));
  const messages: McpMessage[] = [];
  let mcpByBody = false;
  const nestedBudget = { left: maxNested };
  let malformed: string | undefined;
  for (let index = 0; index < elements.length; index++) {
    const read = readMessage(elements[index], topLevelIds[index], argumentDuplicates[index]);
    if (read.kind === 'message') {
      if (read.isMcpMethod) mcpByBody = true;
      messages.push(read.message);
    } else if (read.kind === 'malformed') {
      malformed ??= `message ${index}: ${read.why}`;
      if (read.mcpMethod) mcpByBody = true;
    } else {
      malformed ??= `message ${index}: not a JSON-RPC 2.0 message`;
      // A server that flattens nested arrays runs what they hold, headers or not.
      const element = elements[index];
      if (Array.isArray(element) && !mcpByBody) {
        const nested = holdsMcpMessage(element, nestedBudget);
        mcpByBody = nested ?? showsJsonRpcSignal(text);
      }
    }
  }
  return { messages, mcpByBody, malformed, jsonRpcShaped };
}

/**
 * True when nested arrays hold a JSON-RPC message with an MCP method at any depth. All nested
 * arrays of one body share a budget of `maxBatchElements` values, so a huge nested body costs no
 * more than a batch at the limit; past it the answer is undefined (unknown), and the caller asks
 * the text instead.
 */
function holdsMcpMessage(
  outer: readonly JsonValue[],
  budget: { left: number },
): boolean | undefined {
  const pending: (readonly JsonValue[])[] = [outer];
  for (let list = pending.pop(); list !== undefined; list = pending.pop()) {
    for (const value of list) {
      if (--budget.left < 0) return undefined;
      if (Array.isArray(value)) {
        pending.push(value);
      } else if (isObject(value) && member(value, 'jsonrpc') === '2.0') {
        const method = member(value, 'method');
        if (typeof method === 'string' && MCP_METHODS.has(method)) return true;
      }
    }
  }
  return false;
}

type ReadMessage =
  | { readonly kind: 'message'; readonly message: McpMessage; readonly isMcpMethod: boolean }
  | { readonly kind: 'malformed'; readonly why: string; readonly mcpMethod: boolean }
  | { readonly kind: 'not_json_rpc' };

function readMessage(
  element: JsonValue | undefined,
  idJson: string | undefined,
  argumentsRepeatKeys: boolean | undefined,
): ReadMessage {
  if (!isObject(element) || member(element, 'jsonrpc') !== '2.0') return { kind: 'not_json_rpc' };
  const method = member(element, 'method');
  const params = member(element, 'params');
  const hasId = hasMember(element, 'id');

  if (method === undefined) {
    if (hasId && (hasMember(element, 'result') || hasMember(element, 'error'))) {
      return { kind: 'message', message: responseMessage(idJson), isMcpMethod: false };
    }
    return { kind: 'malformed', why: 'neither a request nor a response', mcpMethod: false };
  }
  if (typeof method !== 'string') {
    return { kind: 'malformed', why: 'method is not a string', mcpMethod: false };
  }
  const known = MCP_METHODS.has(method);
  const paramsObject = isObject(params) ? params : undefined;
  if (params !== undefined && paramsObject === undefined && known) {
    return { kind: 'malformed', why: `${method} params is not an object`, mcpMethod: true };
  }
  const meta = paramsObject !== undefined ? asObject(member(paramsObject, '_meta')) : undefined;
  const metaVersion =
    meta !== undefined ? asString(member(meta, META_PROTOCOL_VERSION)) : undefined;
  const metaClient = meta !== undefined ? asObject(member(meta, META_CLIENT_INFO)) : undefined;
  const hasMcpMeta = meta !== undefined && hasMcpMetaKey(meta);

  let isMcpMethod = known;
  let protocolVersion = metaVersion;
  let clientName = metaClient !== undefined ? asString(member(metaClient, 'name')) : undefined;
  if (method === 'initialize') {
    // LSP's initialize has no protocolVersion; MCP's always does.
    const declared =
      paramsObject !== undefined ? member(paramsObject, 'protocolVersion') : undefined;
    isMcpMethod = typeof declared === 'string' || hasMcpMeta;
    if (typeof declared === 'string') protocolVersion = declared;
    const clientInfo =
      paramsObject !== undefined ? asObject(member(paramsObject, 'clientInfo')) : undefined;
    clientName =
      (clientInfo !== undefined ? asString(member(clientInfo, 'name')) : undefined) ?? clientName;
  } else if (hasMcpMeta) {
    isMcpMethod = true;
  }

  let tool: string | undefined;
  let toolArguments: JsonValue | undefined;
  let resourceUri: string | undefined;
  let prompt: string | undefined;
  if (isMcpMethod) {
    const nameValue = paramsObject !== undefined ? member(paramsObject, 'name') : undefined;
    if (method === 'tools/call') {
      if (typeof nameValue !== 'string' || nameValue === '') {
        return {
          kind: 'malformed',
          why: 'tools/call without a string params.name',
          mcpMethod: true,
        };
      }
      tool = nameValue;
      toolArguments = paramsObject !== undefined ? member(paramsObject, 'arguments') : undefined;
    } else if (method === 'prompts/get') {
      if (typeof nameValue !== 'string') {
        return {
          kind: 'malformed',
          why: 'prompts/get without a string params.name',
          mcpMethod: true,
        };
      }
      prompt = nameValue;
    } else if (method === 'resources/read') {
      const uri = paramsObject !== undefined ? member(paramsObject, 'uri') : undefined;
      if (typeof uri !== 'string') {
        return {
          kind: 'malformed',
          why: 'resources/read without a string params.uri',
          mcpMethod: true,
        };
      }
      resourceUri = uri;
    }
  }
  return {
    kind: 'message',
    isMcpMethod,
    message: {
      kind: hasId ? 'request' : 'notification',
      method,
      idJson: hasId ? idJson : undefined,
      tool,
      arguments: toolArguments,
      argumentsRepeatKeys: tool !== undefined && argumentsRepeatKeys === true,
      resourceUri,
      prompt,
      protocolVersion,
      clientName,
    },
  };
}

function responseMessage(idJson: string | undefined): McpMessage {
  return {
    kind: 'response',
    method: undefined,
    idJson,
    tool: undefined,
    arguments: undefined,
    argumentsRepeatKeys: false,
    resourceUri: undefined,
    prompt: undefined,
    protocolVersion: undefined,
    clientName: undefined,
  };
}

/**
 * An own member of a parsed object, found as a Go server finds the field: by its name, or by a
 * key that folds onto it (json-key.ts), so `{"Method":"tools/call"}` has a method. Two keys for
 * one envelope field are duplicates, denied before any member is trusted. Bodies come from
 * JSON.parse (json-rpc-body.ts), whose objects inherit from Object.prototype: an inherited name
 * must read as absent, never as a value.
 */
function member(object: JsonObject, key: string): JsonValue | undefined {
  if (Object.hasOwn(object, key)) return object[key];
  const found = foldedKey(object, key);
  return found === undefined ? undefined : object[found];
}

function hasMember(object: JsonObject, key: string): boolean {
  return Object.hasOwn(object, key) || foldedKey(object, key) !== undefined;
}

/** The own key of `object` that folds onto `name`, when `name` itself is absent. */
function foldedKey(object: JsonObject, name: string): string | undefined {
  let folded: string | undefined;
  // for-in over a JSON.parse object visits exactly its own keys, without an array of them.
  for (const key in object) {
    if (foldedLength(key) !== name.length) continue;
    folded ??= foldJsonKey(name);
    if (foldJsonKey(key) === folded) return key;
  }
  return undefined;
}

/** True when `_meta` holds any reserved `io.modelcontextprotocol/` key. */
function hasMcpMetaKey(meta: JsonObject): boolean {
  for (const key of Object.keys(meta)) if (key.startsWith(META_PREFIX)) return true;
  return false;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

function asString(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
