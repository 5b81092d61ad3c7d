import { eventually, startPrivateRedis, uniqueName, type PrivateRedis } from '@infra/test-utils';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CacheEvents } from '../types.js';
import { TieredCacheService } from './tiered-cache.js';

/**
 * The tiered cache on a Redis Cluster (a private one-node cluster owning every slot), with
 * injected ioredis `Cluster` clients: reads, writes, tags, `getMany`, `clear`, and peers'
 * invalidations through the subscriber duplicated from the cluster, which keeps its options.
 */

let server: PrivateRedis;
let admin: Redis;
const clusters: Cluster[] = [];
const caches: TieredCacheService[] = [];
const connectionName = uniqueName('cluster');

function cluster(): Cluster {
  const client = new Cluster([{ host: '127.0.0.1', port: server.port }], {
    redisOptions: { connectionName, connectTimeout: 30_000 },
  });
  client.on('error', () => undefined);
  clusters.push(client);
  return client;
}

beforeAll(async () => {
  server = await startPrivateRedis({ cluster: true });
  admin = new Redis(server.url);
});

afterAll(async () => {
  for (const cache of caches) await cache.close();
  for (const client of clusters) client.disconnect();
  admin.disconnect();
  await server.close();
});

it('works on a cluster and hears peers through a subscriber that keeps the cluster options', async () => {
  const keyPrefix = `${uniqueName('cluster')}:`;
  const options = { keyPrefix, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 };
  const a = new TieredCacheService('shared', { ...options, client: cluster() });
  const b = new TieredCacheService('shared', { ...options, client: cluster() });
  caches.push(a, b);
  await Promise.all([a.start(), b.start()]);
  expect(await a.checkHealth()).toMatchObject({ status: 'up', invalidation: 'live' });

  // The subscriber connections carry the name given under the cluster's redisOptions: they were
  // made from the cluster's options, not from defaults.
  const named = ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(connectionName));
  expect(named.filter((line) => / sub=1 /.test(line)).length).toBeGreaterThanOrEqual(2);

  const heard: CacheEvents['invalidate'][] = [];
  b.on('invalidate', (payload) => heard.push(payload));
  await a.setMany([
    { key: 'x', value: 1, tags: ['t'] },
    { key: 'y', value: 2 },
  ]);
  await eventually(() => heard.length > 0, 20_000);
  expect(await b.getMany(['x', 'y', 'z'])).toEqual([1, 2, undefined]);

  await a.set('x', 10);
  await eventually(async () => (await b.get('x')) === 10, 20_000);
  await a.set('t1', 'tagged', { tags: ['t'] });
  expect(await a.deleteByTag('t')).toBe(1);
  await eventually(async () => (await b.get('t1')) === undefined, 20_000);

  await b.clear();
  await eventually(async () => (await a.get('y')) === undefined, 20_000);
  expect(await admin.dbsize()).toBe(0);
});
