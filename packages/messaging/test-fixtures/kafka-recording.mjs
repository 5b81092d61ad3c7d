// Instruments a Kafka client layer (a KafkaClientLike) for the fault tests: each consumer it makes
// reports, under the member name given, every offset handed to the bus (resolveOffset), every
// commit the broker accepted, and every change of group generation. Used in the test process and in
// the replica child, which forwards the records to its parent.

/**
 * @param {import('../dist/kafka/index.js').KafkaClientLike} client
 * @param {string} member
 * @param {(record: object) => void} report
 */
export function recordingClient(client, member, report) {
  return {
    producer: (config) => client.producer(config),
    admin: () => client.admin(),
    consumer: (config) => {
      const consumer = client.consumer(config);
      const generation = () => report({ kind: 'generation', member });
      consumer.on?.('consumer.group_join', generation);
      consumer.on?.('consumer.rebalancing', generation);
      const commit = consumer.commitOffsets?.bind(consumer);
      if (commit) {
        consumer.commitOffsets = async (offsets) => {
          await commit(offsets);
          const at = Date.now();
          for (const { topic, partition, offset } of offsets)
            report({ kind: 'committed', member, topic, partition, offset, at });
        };
      }
      const run = consumer.run.bind(consumer);
      consumer.run = (config) =>
        run({
          ...config,
          eachBatch: (payload) => {
            const { topic, partition } = payload.batch;
            const resolveOffset = payload.resolveOffset.bind(payload);
            return config.eachBatch({
              ...payload,
              resolveOffset: (offset) => {
                report({ kind: 'handed', member, topic, partition, offset });
                resolveOffset(offset);
              },
            });
          },
        });
      return consumer;
    },
  };
}
