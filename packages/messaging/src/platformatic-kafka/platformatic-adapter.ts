import { missingPeer } from '../errors.js';
import { KafkaAdapter, resolveBrokers, type KafkaAdapterOptions } from '../kafka/kafka-adapter.js';
import { integer, nonEmptyString, plainObject } from '../validate.js';
import { PlatformaticKafkaClient, type PlatformaticModule } from './platformatic-client.js';

/** The Kafka adapter's options, less `kafka`: the adapter always creates its `@platformatic/kafka` clients. */
export interface PlatformaticKafkaAdapterOptions extends Omit<KafkaAdapterOptions, 'kafka'> {
  /**
   * How long a request may wait for the broker before it fails and is retried (ms).
   * @default 3000, or `connectTimeoutMs` when smaller
   */
  requestTimeoutMs?: number;
  /** Pause before retrying a failed request, and before a failed consumer rejoins its group (ms). @default 250 */
  retryDelayMs?: number;
}

/**
 * The Kafka adapter on `@platformatic/kafka`: the same consumer groups (one consumer per bus and group,
 * partitions only to members subscribed to their topic), commits that follow acknowledgements, health
 * problems and coded errors as the kafkajs adapter.
 */
export class PlatformaticKafkaAdapter extends KafkaAdapter {
  override readonly name: string = 'platformatic-kafka';
}

/**
 * A Kafka adapter on `@platformatic/kafka` clients it creates from `options.brokers` (default
 * `KAFKA_BROKERS`), loading `@platformatic/kafka` only then.
 */
export async function createPlatformaticKafkaAdapter(
  options: PlatformaticKafkaAdapterOptions = {},
): Promise<PlatformaticKafkaAdapter> {
  plainObject('options', options);
  const bootstrapBrokers = resolveBrokers(options.brokers);
  const clientId = nonEmptyString('clientId', options.clientId ?? 'infra-messaging');
  const connectTimeoutMs = integer('connectTimeoutMs', options.connectTimeoutMs ?? 10_000);
  const timeout = integer('requestTimeoutMs', options.requestTimeoutMs ?? Math.min(3000, connectTimeoutMs));
  const retryDelay = integer('retryDelayMs', options.retryDelayMs ?? 250);
  let mod: PlatformaticModule;
  try {
    mod = await import('@platformatic/kafka');
  } catch (error) {
    throw missingPeer('@platformatic/kafka', 'The @platformatic/kafka messaging adapter', error);
  }
  const { requestTimeoutMs: _timeout, retryDelayMs: _delay, ...rest } = options;
  const kafka = new PlatformaticKafkaClient(mod, { clientId, bootstrapBrokers, timeout, retries: 8, retryDelay });
  return new PlatformaticKafkaAdapter({ ...rest, kafka });
}
