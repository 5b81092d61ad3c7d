// A consumer process that the kill benchmark SIGKILLs mid-stream. Its handler records each message
// id it handled in a Redis set (the "effect") and counts deliveries.
import { Redis } from 'ioredis';
import { MessageBus } from '../dist/index.js';
import { createRedisAdapter } from '../dist/redis/index.js';

const [redisUrl, prefix, topic, claimIdleMs] = process.argv.slice(2);
const client = new Redis(redisUrl);
const adapter = await createRedisAdapter({
  client,
  prefix,
  claimIdleMs: Number(claimIdleMs),
  batchSize: 200,
  blockMs: 100,
});
const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
await bus
  .subscribe(
    topic,
    async (_payload, message) => {
      await client.multi().sadd(`${prefix}effects`, message.id).incr(`${prefix}deliveries`).exec();
    },
    { group: 'workers', concurrency: 32, maxInFlight: 400 },
  )
  .ready();
process.send?.('ready');
