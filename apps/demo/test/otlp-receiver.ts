import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as the receiver decoded it, from either OTLP/HTTP encoding. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** `undefined` for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  /** Instrumentation scope name. */
  scope: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
}

export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter appends `/v1/traces`). */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  contentTypes: Set<string>;
  close(): Promise<void>;
}

const kinds = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

/**
 * An OTLP/HTTP trace receiver on 127.0.0.1: accepts `POST /v1/traces` as `application/json` or
 * `application/x-protobuf`, decodes the spans and keeps them.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.add(type);
      const body = Buffer.concat(chunks);
      try {
        spans.push(...(type === 'application/json' ? fromJson(body) : fromProtobuf(body)));
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      // An empty ExportTraceServiceResponse: `{}` in JSON, no bytes in protobuf.
      if (type === 'application/json') response.writeHead(200, { 'content-type': type }).end('{}');
      else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

// --- OTLP JSON: ids are hex strings, enums numbers, int64 values strings.

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: { key: string; value: JsonValue }[];
  links?: { traceId: string; spanId: string }[];
}
interface JsonRequest {
  resourceSpans?: { scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[] }[];
}

function jsonValue(value: JsonValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.doubleValue ?? '';
}

function fromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as JsonRequest;
  const spans: ReceivedSpan[] = [];
  for (const resource of request.resourceSpans ?? [])
    for (const scope of resource.scopeSpans ?? [])
      for (const span of scope.spans ?? [])
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId === undefined || span.parentSpanId === '' ? undefined : span.parentSpanId,
          name: span.name,
          kind: kinds[span.kind ?? 0] ?? 'unspecified',
          scope: scope.scope?.name ?? '',
          attributes: Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, jsonValue(value)])),
          links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
        });
  return spans;
}

// --- OTLP protobuf (opentelemetry/proto/collector/trace/v1): a reader of the protobuf wire format
// for the fields used here. Field numbers from trace.proto and common.proto.

type Field = { no: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readVarint(buffer: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buffer[at++];
    if (byte === undefined) throw new Error('truncated varint');
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, at];
    shift += 7n;
  }
}

function fields(buffer: Buffer): Field[] {
  const result: Field[] = [];
  for (let at = 0; at < buffer.length;) {
    const [tag, next] = readVarint(buffer, at);
    at = next;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(buffer, at);
      result.push({ no, varint: value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buffer, at);
      const end = after + Number(length);
      result.push({ no, bytes: buffer.subarray(after, end) });
      at = end;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      result.push({ no, fixed: buffer.subarray(at, at + size) });
      at += size;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return result;
}

const all = (of: Field[], no: number): Buffer[] =>
  of.filter((field) => field.no === no && field.bytes !== undefined).map((field) => field.bytes as Buffer);
const one = (of: Field[], no: number): Buffer | undefined => all(of, no)[0];

function anyValue(buffer: Buffer): string | number | boolean {
  const [field] = fields(buffer);
  if (field === undefined) return '';
  if (field.no === 1) return (field.bytes ?? Buffer.alloc(0)).toString('utf8');
  if (field.no === 2) return field.varint === 1n;
  if (field.no === 3) return Number(BigInt.asIntN(64, field.varint ?? 0n));
  if (field.no === 4) return field.fixed?.readDoubleLE(0) ?? 0;
  return '';
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of all(fields(body), 1)) {
    for (const scopeSpans of all(fields(resourceSpans), 2)) {
      const scopeFields = fields(scopeSpans);
      const scope = one(scopeFields, 1);
      const scopeName = scope === undefined ? '' : (one(fields(scope), 1)?.toString('utf8') ?? '');
      for (const spanBytes of all(scopeFields, 2)) {
        const span = fields(spanBytes);
        const parent = one(span, 4);
        const kind = span.find((field) => field.no === 6)?.varint ?? 0n;
        spans.push({
          traceId: one(span, 1)?.toString('hex') ?? '',
          spanId: one(span, 2)?.toString('hex') ?? '',
          parentSpanId: parent === undefined || parent.length === 0 ? undefined : parent.toString('hex'),
          name: one(span, 5)?.toString('utf8') ?? '',
          kind: kinds[Number(kind)] ?? 'unspecified',
          scope: scopeName,
          attributes: Object.fromEntries(
            all(span, 9).map((keyValue) => {
              const entry = fields(keyValue);
              const value = one(entry, 2);
              return [one(entry, 1)?.toString('utf8') ?? '', value === undefined ? '' : anyValue(value)];
            }),
          ),
          links: all(span, 13).map((link) => {
            const entry = fields(link);
            return { traceId: one(entry, 1)?.toString('hex') ?? '', spanId: one(entry, 2)?.toString('hex') ?? '' };
          }),
        });
      }
    }
  }
  return spans;
}
