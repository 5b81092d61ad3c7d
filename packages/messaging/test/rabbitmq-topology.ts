import { connect } from 'amqplib';
import type { RabbitMqAdapter } from '../src/rabbitmq/rabbitmq-adapter.js';

/**
 * Records the exchanges and queues the adapters of a test file name, so that the file deletes them
 * from the shared server afterwards (RabbitMQ has no listing by prefix without its management plugin).
 */
export class TopologyRecorder {
  readonly exchanges = new Set<string>();
  readonly queues = new Set<string>();

  track<A extends RabbitMqAdapter>(adapter: A): A {
    const exchangeName = adapter.exchangeName.bind(adapter);
    const queueName = adapter.queueName.bind(adapter);
    adapter.exchangeName = (topic) => {
      const name = exchangeName(topic);
      this.exchanges.add(name);
      return name;
    };
    adapter.queueName = (topic, group) => {
      const name = queueName(topic, group);
      this.queues.add(name);
      return name;
    };
    return adapter;
  }

  /** Deletes what was recorded (missing ones included: a delete of nothing succeeds). */
  async deleteAll(url: string): Promise<void> {
    const connection = await connect(url);
    try {
      const channel = await connection.createChannel();
      for (const queue of this.queues) await channel.deleteQueue(queue);
      for (const exchange of this.exchanges) await channel.deleteExchange(exchange);
      await channel.close();
    } finally {
      await connection.close();
    }
  }
}
