import type { Admin, ITopicConfig } from 'kafkajs';

/**
 * Creates Kafka topics and waits until every partition of each has a leader.
 *
 * kafkajs' own `waitForLeaders` retries only "leader not available": a broker that has not yet
 * learnt of a topic it just created answers "does not host this topic-partition" for a moment (a
 * KRaft broker under load does), and kafkajs gives up on that. This asks for the metadata until it
 * is complete, whatever the broker answered meanwhile, and fails after `timeoutMs` naming the
 * topics and the last answer. A topic that already exists is waited for like a new one.
 */
export async function createKafkaTopics(
  admin: Admin,
  topics: readonly ITopicConfig[],
  timeoutMs = 60_000,
): Promise<void> {
  await admin.createTopics({ topics: [...topics], waitForLeaders: false });
  const names = topics.map((entry) => entry.topic);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      const incomplete = topics.filter((wanted) => {
        const partitions = found.find((entry) => entry.name === wanted.topic)?.partitions ?? [];
        const expected = wanted.numPartitions ?? 1;
        return partitions.length < expected || partitions.some((p) => p.partitionErrorCode !== 0 || p.leader < 0);
      });
      if (incomplete.length === 0) return;
      last = `no leader yet for ${incomplete.map((entry) => entry.topic).join(', ')}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline)
      throw new Error(`Kafka topics ${names.join(', ')} not ready within ${String(timeoutMs)} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
