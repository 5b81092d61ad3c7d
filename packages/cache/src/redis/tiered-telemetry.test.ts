import { redisUrl, uniqueName } from '@infra/test-utils';
import { startTestTracing, type TestTracing } from '@infra/test-utils/tracing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisCacheService } from './redis-cache.js';
import { TieredCacheService } from './tiered-cache.js';

const keyPrefix = `${uniqueName('cache_tiered_spans')}:`;
const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };

let tracing: TestTracing;
beforeAll(() => {
  tracing = startTestTracing();
});
afterAll(() => tracing.stop());

it('reports the tier that answered a tiered read', async () => {
  await using writer = new TieredCacheService('spans', { connection: redisUrl, keyPrefix, ...patient });
  await using reader = new TieredCacheService('spans', { connection: redisUrl, keyPrefix, ...patient });
  await writer.set('k', 'v');
  tracing.reset();
  expect(await reader.get('k')).toBe('v');
  expect(await reader.get('k')).toBe('v');
  expect(await reader.get('absent')).toBeUndefined();
  const tiers = tracing
    .spansNamed('cache get')
    .map((span) => [span.attributes['cache.tier'], span.attributes['cache.hit']]);
  expect(tiers).toEqual([
    ['redis', true],
    ['memory', true],
    ['memory+redis', false],
  ]);
  await writer.delete('k');
});

it('reports the redis tier of a Redis cache', async () => {
  await using cache = new RedisCacheService('spans-redis', { connection: redisUrl, keyPrefix, ...patient });
  tracing.reset();
  await cache.get('absent');
  expect(tracing.spans()[0]?.attributes).toMatchObject({ 'cache.tier': 'redis', 'cache.hit': false });
});
