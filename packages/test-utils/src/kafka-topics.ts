import type { Admin, ITopicConfig } from 'kafkajs';
import { eventually } from './services.js';

/**
 * Creates Kafka topics and waits until every partition of each has a leader that serves it.
 *
 * kafkajs' own `waitForLeaders` retries only "leader not available": a broker that has not yet
 * learnt of a topic it just created answers "does not host this topic-partition" for a moment (a
 * KRaft broker under load does), and kafkajs gives up on that. Nor is a leader in the metadata
 * enough: for a moment more, the leader it names may refuse requests for the partition ("not the
 * leader for that topic-partition"). This asks for the metadata, then for the offsets of every
 * partition (answered by its leader), until both succeed, whatever the broker answered meanwhile,
 * and fails after `timeoutMs` naming the topics and the last answer. A topic that already exists is
 * waited for like a new one.
 */
export async function createKafkaTopics(
  admin: Admin,
  topics: readonly ITopicConfig[],
  timeoutMs = 60_000,
): Promise<void> {
  await admin.createTopics({ topics: [...topics], waitForLeaders: false });
  const names = topics.map((entry) => entry.topic);
  let last = 'no answer yet';
  const ready = async (): Promise<boolean> => {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      const incomplete = topics.filter((wanted) => {
        const partitions = found.find((entry) => entry.name === wanted.topic)?.partitions ?? [];
        const expected = wanted.numPartitions ?? 1;
        return partitions.length < expected || partitions.some((p) => p.partitionErrorCode !== 0 || p.leader < 0);
      });
      if (incomplete.length > 0) {
        last = `no leader yet for ${incomplete.map((entry) => entry.topic).join(', ')}`;
        return false;
      }
      // Throws while a leader does not serve its partition yet.
      for (const name of names) await admin.fetchTopicOffsets(name);
      return true;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    return false;
  };
  await eventually(ready, timeoutMs, 100).catch(() => {
    throw new Error(`Kafka topics ${names.join(', ')} not ready within ${String(timeoutMs)} ms: ${last}`);
  });
}
