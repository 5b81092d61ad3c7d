import type { OutboxMessage } from '@infra/persistence';
import type { WireMessage } from '../adapter.js';
import type { PublishRequest } from '../message-bus.js';

/**
 * How the outbox keeps a prepared message: the wire message as the bus built it, written once. The
 * `payload` column holds `{ [WIRE_MARKER]: 1, id, timestamp, body, encoding }`, with the body as the
 * serializer wrote it (a string, or base64 for bytes); `topic`, `key` and `headers` have columns of
 * their own. The relay sends it as it is: no second serialization, validation or header building.
 */
export const WIRE_MARKER = '@infra/messaging.wire';

/** Headers of rows written by earlier versions, which built the message again in the relay. */
export const OUTBOX_ID_HEADER = 'x-outbox-message-id';
export const OUTBOX_TIME_HEADER = 'x-outbox-published-at';

export interface StoredWire {
  [WIRE_MARKER]: 1;
  id: string;
  timestamp: number;
  body: string;
  encoding: 'utf8' | 'base64';
}

/** The `payload` column value of a prepared message. */
export function storedWire(message: WireMessage): StoredWire {
  const binary = typeof message.body !== 'string';
  return {
    [WIRE_MARKER]: 1,
    id: message.id,
    timestamp: message.timestamp,
    body: binary ? Buffer.from(message.body).toString('base64') : message.body,
    encoding: binary ? 'base64' : 'utf8',
  };
}

function isStoredWire(payload: unknown): payload is StoredWire {
  return typeof payload === 'object' && payload !== null && (payload as Partial<StoredWire>)[WIRE_MARKER] === 1;
}

/**
 * A row as the relay sends it: the stored wire message unchanged, or, for a row written by an
 * earlier version or by hand with `addToOutbox`, a request the bus builds (and checks) as a publish.
 */
export type RelayItem = { wire: WireMessage } | { request: PublishRequest };

export function relayItem(row: OutboxMessage): RelayItem {
  const payload = row.payload;
  if (isStoredWire(payload)) {
    return {
      wire: {
        id: payload.id,
        topic: row.topic,
        key: row.key,
        headers: row.headers,
        timestamp: payload.timestamp,
        body: payload.encoding === 'base64' ? new Uint8Array(Buffer.from(payload.body, 'base64')) : payload.body,
      },
    };
  }
  const { [OUTBOX_ID_HEADER]: id, [OUTBOX_TIME_HEADER]: time, ...headers } = row.headers;
  const timestamp = Number(time);
  return {
    request: {
      topic: row.topic,
      payload,
      ...(row.key === null ? {} : { key: row.key }),
      headers,
      id: id ?? `outbox-${row.id}`,
      timestamp: Number.isFinite(timestamp) && timestamp > 0 ? timestamp : row.createdAt.getTime(),
    },
  };
}
