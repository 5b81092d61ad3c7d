import type { KafkaClientLike } from '../src/kafka/kafka-client.js';

/** What an instrumented consumer reports. */
export type ConsumerRecord =
  | { kind: 'handed'; member: string; topic: string; partition: number; offset: string }
  | { kind: 'committed'; member: string; topic: string; partition: number; offset: string; at: number }
  | { kind: 'generation'; member: string };

export function recordingClient(
  client: KafkaClientLike,
  member: string,
  report: (record: ConsumerRecord) => void,
): KafkaClientLike;
