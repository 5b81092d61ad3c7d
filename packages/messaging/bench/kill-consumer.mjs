// Zero loss when a consumer dies: a child process consumes a stream while messages are published,
// is SIGKILLed (nothing acknowledged after that instant, nothing closed), and a surviving consumer
// in the same group claims what the dead one left pending (XAUTOCLAIM after claimIdleMs).
import { fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { MessageBus } from '../dist/index.js';
import { createRedisAdapter } from '../dist/redis/index.js';
import { until } from './stats.mjs';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function killConsumer(count) {
  const prefix = `bench:kill:${process.pid}:`;
  const topic = 'bench.kill';
  const claimIdleMs = 1000;
  const client = new Redis(redisUrl);
  const adapter = await createRedisAdapter({ client, prefix, claimIdleMs, batchSize: 200, blockMs: 100 });
  const bus = new MessageBus({ adapter, lagIntervalMs: 0 });
  const child = fork(
    new URL('./kill-consumer-child.mjs', import.meta.url),
    [redisUrl, prefix, topic, String(claimIdleMs)],
    { stdio: 'inherit' },
  );
  try {
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`consumer process exited with ${code}`)));
    });
    let published = 0;
    let killedAt = -1;
    const publishing = (async () => {
      for (; published < count; published += 500) {
        await bus.publishBatch(
          Array.from({ length: Math.min(500, count - published) }, (_, i) => ({
            topic,
            payload: { n: published + i },
          })),
        );
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await until(async () => (await client.scard(`${prefix}effects`)) >= count / 4);
    child.kill('SIGKILL');
    killedAt = await client.scard(`${prefix}effects`);
    await publishing;
    const survivor = bus.subscribe(
      topic,
      async (_payload, message) => {
        await client.multi().sadd(`${prefix}effects`, message.id).incr(`${prefix}deliveries`).exec();
      },
      { group: 'workers', concurrency: 32, maxInFlight: 400 },
    );
    await survivor.ready();
    const deadline = Date.now() + 60_000;
    while ((await client.scard(`${prefix}effects`)) < count && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const handled = await client.scard(`${prefix}effects`);
    const deliveries = Number(await client.get(`${prefix}deliveries`));
    await until(async () => (await adapter.backlog(topic, 'workers')).pending === 0, 10_000, 50).catch(() => undefined);
    const { pending } = await adapter.backlog(topic, 'workers');
    return { count, killedAt, handled, lost: count - handled, duplicates: deliveries - handled, pending };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await bus.close({ timeoutMs: 1000 });
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  }
}
