/**
 * A lean decoder for `envoy.service.auth.v3.CheckRequest`: reads, straight from the wire bytes,
 * only the fields toRequestFacts (to-facts.ts) looks at, and skips the rest without building it
 * (the destination's address, timestamps, ids, sizes, route metadata, context extensions).
 *
 * Why: the generic proto-loader decode builds every field twice (message, then plain object)
 * and is the largest single cost of a Check after HTTP/2 itself. The result has exactly the
 * shape check-types.ts describes, so toRequestFacts and everything after it are unchanged; the
 * wire test compares this decoder with proto-loader's on Envoy's own encodings.
 *
 * Field numbers (Envoy's attribute_context.proto, external_auth.proto, base.proto):
 *   CheckRequest.attributes = 1
 *   AttributeContext: source = 1 (Peer: address = 1, principal = 4, certificate = 5),
 *     destination = 2 (Peer.service = 2), request = 4, metadata_context = 11, tls_session = 12
 *     (sni = 1)
 *   Metadata.filter_metadata = 1 (map: key 1, value 2 Struct); Struct.fields = 1 (map: key 1,
 *     value 2 Value); Value: null_value = 1, number_value = 2 (double), string_value = 3,
 *     bool_value = 4, struct_value = 5, list_value = 6; ListValue.values = 1
 *   Address.socket_address = 1; SocketAddress: address = 2, port_value = 3
 *   Request.http = 2
 *   HttpRequest: method = 2, headers = 3 (map: key 1, value 2), path = 4, host = 5, scheme = 6,
 *     protocol = 10, body = 11, raw_body = 12, header_map = 13
 *   HeaderMap.headers = 1; HeaderValue: key = 1, value = 2, raw_value = 3
 *
 * Like protobufjs: the last occurrence of a singular field wins, map entries with the same key
 * keep the last value, and a field with an unexpected wire type is skipped. Malformed bytes
 * throw; the server turns that into a deny.
 */
import protobuf from 'protobufjs';
import type { Reader } from 'protobufjs';

import type { CheckRequest } from './check-types.js';

const LENGTH_DELIMITED = 2;

/** Mutable twins of the check-types shapes, filled while reading. */
interface HttpFields {
  method?: string;
  headers?: Record<string, string>;
  path?: string;
  host?: string;
  scheme?: string;
  protocol?: string;
  body?: string;
  raw_body?: Uint8Array;
  header_map?: { headers: { key?: string; value?: string; raw_value?: Uint8Array }[] };
}

/** Decodes a CheckRequest message (without the gRPC frame header). */
export function decodeCheckRequest(bytes: Uint8Array): CheckRequest {
  const reader = protobuf.Reader.create(bytes);
  let attributes: Record<string, unknown> | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === LENGTH_DELIMITED) {
      attributes = readAttributes(reader, attributes ?? {});
    } else {
      reader.skipType(tag & 7);
    }
  }
  return attributes === undefined ? {} : { attributes };
}

/** Sub-message bounds: the end offset of a length-delimited field starting here. */
function end(reader: Reader): number {
  return reader.uint32() + reader.pos;
}

// Repeated occurrences of a message field merge, as protobuf requires; hence `into`.
function readAttributes(reader: Reader, into: Record<string, unknown>): Record<string, unknown> {
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (wireType !== LENGTH_DELIMITED) {
      reader.skipType(wireType);
      continue;
    }
    switch (tag >>> 3) {
      case 1:
        into['source'] = readPeer(reader, into['source']);
        break;
      case 2:
        into['destination'] = readSingleString(reader, 2, 'service', into['destination']);
        break;
      case 4:
        into['request'] = readRequest(reader, into['request'] as Record<string, unknown>);
        break;
      case 11:
        into['metadata_context'] = readMetadata(reader, into['metadata_context']);
        break;
      case 12:
        into['tls_session'] = readSingleString(reader, 1, 'sni', into['tls_session']);
        break;
      default:
        reader.skipType(wireType);
    }
  }
  return into;
}

/** A message of which one string field matters (Peer.service, TLSSession.sni). */
function readSingleString(
  reader: Reader,
  field: number,
  name: string,
  previous: unknown,
): Record<string, string> {
  const into = (previous as Record<string, string> | undefined) ?? {};
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === LENGTH_DELIMITED) into[name] = reader.string();
    else reader.skipType(tag & 7);
  }
  return into;
}

/** Mutable twin of `Peer`: its socket address, principal and certificate. */
interface PeerFields {
  address?: {
    socket_address?: { address?: string; port_value?: number };
    address?: 'socket_address';
  };
  principal?: string;
  certificate?: string;
}

/** Peer → Address → SocketAddress; a pipe or internal address is skipped like any field. */
function readPeer(reader: Reader, previous: unknown): PeerFields {
  const peer = (previous as PeerFields | undefined) ?? {};
  const stopPeer = end(reader);
  while (reader.pos < stopPeer) {
    const peerTag = reader.uint32();
    if ((peerTag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(peerTag & 7);
      continue;
    }
    const field = peerTag >>> 3;
    if (field === 4) {
      peer.principal = reader.string();
      continue;
    }
    if (field === 5) {
      peer.certificate = reader.string();
      continue;
    }
    if (field !== 1) {
      reader.skipType(LENGTH_DELIMITED);
      continue;
    }
    const stopAddress = end(reader);
    while (reader.pos < stopAddress) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1 && (tag & 7) === LENGTH_DELIMITED) {
        const address = (peer.address ??= {});
        address.address = 'socket_address';
        readSocketAddress(reader, (address.socket_address ??= {}));
      } else {
        reader.skipType(tag & 7);
      }
    }
  }
  return peer;
}

function readSocketAddress(reader: Reader, into: { address?: string; port_value?: number }): void {
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 2 && (tag & 7) === LENGTH_DELIMITED) into.address = reader.string();
    else if (field === 3 && (tag & 7) === 0) into.port_value = reader.uint32();
    else reader.skipType(tag & 7);
  }
}

function readRequest(
  reader: Reader,
  previous: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const into = previous ?? {};
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    if (tag >>> 3 === 2 && (tag & 7) === LENGTH_DELIMITED) {
      into['http'] = readHttp(reader, (into['http'] as HttpFields | undefined) ?? {});
    } else {
      reader.skipType(tag & 7);
    }
  }
  return into;
}

function readHttp(reader: Reader, into: HttpFields): HttpFields {
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (wireType !== LENGTH_DELIMITED) {
      reader.skipType(wireType);
      continue;
    }
    switch (tag >>> 3) {
      case 2:
        into.method = reader.string();
        break;
      case 3:
        readHeaderEntry(reader, (into.headers ??= Object.create(null) as Record<string, string>));
        break;
      case 4:
        into.path = reader.string();
        break;
      case 5:
        into.host = reader.string();
        break;
      case 6:
        into.scheme = reader.string();
        break;
      case 10:
        into.protocol = reader.string();
        break;
      case 11:
        into.body = reader.string();
        break;
      case 12:
        into.raw_body = reader.bytes();
        break;
      case 13:
        readHeaderMap(reader, (into.header_map ??= { headers: [] }).headers);
        break;
      default:
        reader.skipType(wireType);
    }
  }
  return into;
}

/** One `map<string, string>` entry; a missing key or value is the empty string. */
function readHeaderEntry(reader: Reader, headers: Record<string, string>): void {
  const stop = end(reader);
  let key = '';
  let value = '';
  while (reader.pos < stop) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) !== LENGTH_DELIMITED) reader.skipType(tag & 7);
    else if (field === 1) key = reader.string();
    else if (field === 2) value = reader.string();
    else reader.skipType(LENGTH_DELIMITED);
  }
  headers[key] = value;
}

function readHeaderMap(
  reader: Reader,
  list: { key?: string; value?: string; raw_value?: Uint8Array }[],
): void {
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === LENGTH_DELIMITED) list.push(readHeaderValue(reader));
    else reader.skipType(tag & 7);
  }
}

function readHeaderValue(reader: Reader): { key?: string; value?: string; raw_value?: Uint8Array } {
  const header: { key?: string; value?: string; raw_value?: Uint8Array } = {};
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) !== LENGTH_DELIMITED) reader.skipType(tag & 7);
    else if (field === 1) header.key = reader.string();
    else if (field === 2) header.value = reader.string();
    else if (field === 3) header.raw_value = reader.bytes();
    else reader.skipType(LENGTH_DELIMITED);
  }
  return header;
}

/** Mutable twins of the Struct shapes (check-types.ts ProtoStruct/ProtoValue). */
interface StructFields {
  fields: Record<string, ValueFields>;
}
type ValueFields = Record<string, unknown>;

/** `Metadata`: only `filter_metadata`; typed (Any) metadata is skipped. */
function readMetadata(
  reader: Reader,
  previous: unknown,
): { filter_metadata?: Record<string, StructFields> } {
  const into = (previous as { filter_metadata?: Record<string, StructFields> } | undefined) ?? {};
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1 || (tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    const namespaces = (into.filter_metadata ??= Object.create(null) as Record<
      string,
      StructFields
    >);
    const stopEntry = end(reader);
    let key = '';
    let struct: StructFields = { fields: Object.create(null) as Record<string, ValueFields> };
    while (reader.pos < stopEntry) {
      const entryTag = reader.uint32();
      const field = entryTag >>> 3;
      if ((entryTag & 7) !== LENGTH_DELIMITED) reader.skipType(entryTag & 7);
      else if (field === 1) key = reader.string();
      else if (field === 2) struct = readStruct(reader, struct);
      else reader.skipType(LENGTH_DELIMITED);
    }
    // A repeated map key keeps the last entry, as protobufjs does.
    namespaces[key] = struct;
  }
  return into;
}

function readStruct(reader: Reader, into: StructFields): StructFields {
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1 || (tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    const stopEntry = end(reader);
    let key = '';
    let value: ValueFields = {};
    while (reader.pos < stopEntry) {
      const entryTag = reader.uint32();
      const field = entryTag >>> 3;
      if ((entryTag & 7) !== LENGTH_DELIMITED) reader.skipType(entryTag & 7);
      else if (field === 1) key = reader.string();
      else if (field === 2) value = readValue(reader);
      else reader.skipType(LENGTH_DELIMITED);
    }
    into.fields[key] = value;
  }
  return into;
}

const VALUE_KINDS = [
  undefined,
  'nullValue',
  'numberValue',
  'stringValue',
  'boolValue',
  'structValue',
  'listValue',
] as const;

/** One `Value`: the oneof member last written wins, as in protobufjs. */
function readValue(reader: Reader): ValueFields {
  let current: ValueFields = {};
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    const kind = VALUE_KINDS[field];
    let value: unknown;
    if (field === 1 && wireType === 0) {
      reader.int32();
      value = 'NULL_VALUE';
    } else if (field === 2 && wireType === 1) value = reader.double();
    else if (field === 3 && wireType === LENGTH_DELIMITED) value = reader.string();
    else if (field === 4 && wireType === 0) value = reader.bool();
    else if (field === 5 && wireType === LENGTH_DELIMITED) {
      value = readStruct(reader, { fields: Object.create(null) as Record<string, ValueFields> });
    } else if (field === 6 && wireType === LENGTH_DELIMITED) value = readList(reader);
    else {
      reader.skipType(wireType);
      continue;
    }
    // The oneof member last written wins and replaces the others.
    if (kind !== undefined) {
      current = { [kind]: value, kind };
    }
  }
  return current;
}

function readList(reader: Reader): { values: ValueFields[] } {
  const values: ValueFields[] = [];
  const stop = end(reader);
  while (reader.pos < stop) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === LENGTH_DELIMITED) values.push(readValue(reader));
    else reader.skipType(tag & 7);
  }
  return { values };
}
