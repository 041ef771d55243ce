/**
 * A direct encoder for the CheckResponses to-response.ts builds: status, denied_response,
 * ok_response (headers, headers_to_remove) and dynamic_metadata with string and bool values.
 * It writes the wire bytes in one pass, where the generic serializer first converts the plain
 * object into protobufjs messages (`fromObject`) and then encodes those.
 *
 * A response that uses any other field (error_response, status details, header append actions,
 * other Value kinds…) goes to the generic serializer unchanged, so the encoder can never drop a
 * field. Fields are written in field-number order and present fields are written even when they
 * hold the default, exactly as protobufjs does: the wire test compares the bytes of both.
 *
 * Field numbers (Envoy's external_auth.proto, base.proto; google/rpc/status.proto;
 * google/protobuf/struct.proto, wrappers.proto):
 *   CheckResponse: status = 1, denied_response = 2, ok_response = 3, dynamic_metadata = 4
 *   Status: code = 1, message = 2
 *   DeniedHttpResponse: status = 1 (HttpStatus.code = 1), headers = 2, body = 3
 *   OkHttpResponse: headers = 2, headers_to_remove = 5
 *   HeaderValueOption: header = 1 (HeaderValue key = 1, value = 2), append = 2 (BoolValue = 1)
 *   Struct.fields = 1 (map entry key = 1, value = 2); Value: string_value = 3, bool_value = 4
 */
import protobuf from 'protobufjs';
import type { Writer } from 'protobufjs';

import type {
  CheckResponse,
  DeniedHttpResponse,
  HeaderValueOption,
  OkHttpResponse,
  ProtoStruct,
} from './check-types.js';

const VARINT = 0;
const LENGTH_DELIMITED = 2;

function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Encodes `response`; anything outside the subset above goes to `generic`. */
export function encodeCheckResponse(
  response: CheckResponse,
  generic: (response: CheckResponse) => Buffer,
): Buffer {
  if (!isLean(response)) return generic(response);
  const writer = protobuf.Writer.create();
  writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
  writer.uint32(tag(1, VARINT)).int32(response.status.code);
  if (response.status.message !== undefined) {
    writer.uint32(tag(2, LENGTH_DELIMITED)).string(response.status.message);
  }
  writer.ldelim();
  if (response.denied_response !== undefined) {
    writeDenied(writer.uint32(tag(2, LENGTH_DELIMITED)).fork(), response.denied_response);
    writer.ldelim();
  }
  if (response.ok_response !== undefined) {
    writeOk(writer.uint32(tag(3, LENGTH_DELIMITED)).fork(), response.ok_response);
    writer.ldelim();
  }
  if (response.dynamic_metadata !== undefined) {
    writeStruct(writer.uint32(tag(4, LENGTH_DELIMITED)).fork(), response.dynamic_metadata);
    writer.ldelim();
  }
  return writer.finish() as Buffer;
}

function writeDenied(writer: Writer, denied: DeniedHttpResponse): void {
  if (denied.status !== undefined) {
    writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
    writer.uint32(tag(1, VARINT)).int32(denied.status.code);
    writer.ldelim();
  }
  for (const option of denied.headers ?? []) writeHeaderOption(writer, 2, option);
  if (denied.body !== undefined) writer.uint32(tag(3, LENGTH_DELIMITED)).string(denied.body);
}

function writeOk(writer: Writer, ok: OkHttpResponse): void {
  for (const option of ok.headers ?? []) writeHeaderOption(writer, 2, option);
  for (const name of ok.headers_to_remove ?? []) {
    writer.uint32(tag(5, LENGTH_DELIMITED)).string(name);
  }
}

function writeHeaderOption(writer: Writer, field: number, option: HeaderValueOption): void {
  writer.uint32(tag(field, LENGTH_DELIMITED)).fork();
  writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
  writer.uint32(tag(1, LENGTH_DELIMITED)).string(option.header.key);
  writer.uint32(tag(2, LENGTH_DELIMITED)).string(option.header.value);
  writer.ldelim();
  if (option.append !== undefined) {
    writer.uint32(tag(2, LENGTH_DELIMITED)).fork();
    writer.uint32(tag(1, VARINT)).bool(option.append.value);
    writer.ldelim();
  }
  writer.ldelim();
}

function writeStruct(writer: Writer, struct: ProtoStruct): void {
  const fields = struct.fields ?? {};
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === undefined) continue;
    writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
    writer.uint32(tag(1, LENGTH_DELIMITED)).string(key);
    writer.uint32(tag(2, LENGTH_DELIMITED)).fork();
    if (value.stringValue !== undefined) {
      writer.uint32(tag(3, LENGTH_DELIMITED)).string(value.stringValue);
    } else {
      writer.uint32(tag(4, VARINT)).bool(value.boolValue === true);
    }
    writer.ldelim();
    writer.ldelim();
  }
}

/** True when every field set in `response` is one this encoder writes. */
function isLean(response: CheckResponse): boolean {
  if (response.error_response !== undefined || response.status.details !== undefined) {
    return false;
  }
  const denied = response.denied_response;
  if (denied !== undefined && !(denied.headers ?? []).every(isLeanHeader)) return false;
  const ok = response.ok_response;
  if (ok !== undefined) {
    if (
      ok.dynamic_metadata !== undefined ||
      ok.response_headers_to_add !== undefined ||
      ok.query_parameters_to_set !== undefined ||
      ok.query_parameters_to_remove !== undefined ||
      !(ok.headers ?? []).every(isLeanHeader)
    ) {
      return false;
    }
  }
  const fields = response.dynamic_metadata?.fields;
  if (fields !== undefined) {
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      const value = fields[key];
      if (value === undefined) continue;
      const isString = typeof value.stringValue === 'string';
      const isBool = typeof value.boolValue === 'boolean';
      if (isString === isBool || Object.keys(value).length !== 1) return false;
    }
  }
  return true;
}

function isLeanHeader(option: HeaderValueOption): boolean {
  return option.append_action === undefined && option.keep_empty_value === undefined;
}
