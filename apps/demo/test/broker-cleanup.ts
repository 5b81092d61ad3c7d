import amqp from 'amqplib';
/**
 * Deletes the RabbitMQ exchanges `<prefix><topic>` and the group queues `<prefix><topic>@<group>`
 * that a run created (RabbitMQ cannot list them over AMQP: the names are given).
 */
export async function deleteRabbitMqTopics(
  url: string,
  prefix: string,
  topics: string[],
  group: string,
): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const topic of topics) {
      await channel.deleteQueue(`${prefix}${topic}@${group}`);
      await channel.deleteExchange(`${prefix}${topic}`);
    }
    await channel.close();
  } finally {
    await connection.close();
  }
}
