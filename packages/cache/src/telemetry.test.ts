import { parentOf, useTestTracing, startTestTracing } from '@infra/test-utils/tracing';
import { describe, expect, it } from 'vitest';
import { InMemoryCacheService } from './memory-cache.js';

describe('cache spans', () => {
  const tracing = useTestTracing();

  it('records get with the cache name, the tier and whether it hit', async () => {
    await using cache = new InMemoryCacheService('users');
    await cache.get('missing');
    await cache.set('present', { id: 1 });
    await cache.get('present');
    const [miss, set, hit] = tracing.spans();
    expect(miss?.name).toBe('cache get');
    expect(miss?.kind).toBe(0);
    expect(miss?.attributes).toEqual({ 'cache.name': 'users', 'cache.tier': 'memory', 'cache.hit': false });
    expect(set?.name).toBe('cache set');
    expect(set?.attributes).toEqual({ 'cache.name': 'users', 'cache.tier': 'memory' });
    expect(hit?.attributes['cache.hit']).toBe(true);
    expect(miss?.instrumentationScope.name).toBe('@infra/cache');
  });

  it('records getOrSet as the parent of the loader spans and of the write', async () => {
    await using cache = new InMemoryCacheService('loads');
    const { tracerFor, withSpan } = await import('@infra/core');
    const loaderTracer = tracerFor('loader');
    await cache.getOrSet('k', () => withSpan(loaderTracer, 'load from db', {}, () => Promise.resolve(7)));
    await cache.getOrSet('k', () => Promise.resolve(8));
    const [load, first, second] = tracing.spans();
    expect(first?.name).toBe('cache getOrSet');
    expect(first?.attributes['cache.hit']).toBe(false);
    expect(parentOf(load!, tracing.spans())).toBe(first);
    expect(second?.attributes['cache.hit']).toBe(true);
    expect(second?.spanContext().traceId).not.toBe(first?.spanContext().traceId);
  });

  it('records a refused call as an error span', async () => {
    await using cache = new InMemoryCacheService('errors');
    await expect(cache.set('k', undefined as never)).rejects.toMatchObject({ code: 'UNSERIALIZABLE_VALUE' });
    const [span] = tracing.spans();
    expect(span?.status.code).toBe(2);
    expect(span?.attributes['error.type']).toBe('UNSERIALIZABLE_VALUE');
  });
});

describe('without an SDK', () => {
  it('records nothing', async () => {
    const tracing = startTestTracing();
    await tracing.stop();
    await using cache = new InMemoryCacheService('quiet');
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(await cache.getOrSet('j', () => Promise.resolve(2))).toBe(2);
    expect(tracing.spans()).toEqual([]);
  });
});
