import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { missingPeer } from '../errors.js';

/** A connection of `@nats-io/transport-node` (or any `NatsConnection` of the official client). */
export type NatsConnectionLike = NatsConnection;

/** What the adapter uses of the two optional peers, loaded on first use. */
export interface NatsModules {
  connect(options: NodeConnectionOptions): Promise<NatsConnection>;
  headers(): MsgHdrs;
  createInbox(): string;
  jetstream(nc: NatsConnection, options: { timeout: number }): JetStreamClient;
  jetstreamManager(nc: NatsConnection, options: { timeout: number; checkAPI: boolean }): Promise<JetStreamManager>;
}

const OWNER = 'The NATS JetStream messaging adapter';

/** Imports `@nats-io/transport-node` and `@nats-io/jetstream`; `MISSING_PEER` names the one that is absent. */
export async function loadNats(): Promise<NatsModules> {
  let transport: typeof import('@nats-io/transport-node');
  let jetstream: typeof import('@nats-io/jetstream');
  try {
    transport = await import('@nats-io/transport-node');
  } catch (error) {
    throw missingPeer('@nats-io/transport-node', OWNER, error);
  }
  try {
    jetstream = await import('@nats-io/jetstream');
  } catch (error) {
    throw missingPeer('@nats-io/jetstream', OWNER, error);
  }
  return {
    connect: transport.connect,
    headers: () => transport.headers(),
    createInbox: () => transport.createInbox(),
    jetstream: jetstream.jetstream,
    jetstreamManager: jetstream.jetstreamManager,
  };
}
