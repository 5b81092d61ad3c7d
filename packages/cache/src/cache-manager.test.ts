import { describe, expect, it } from 'vitest';
import { CacheManager } from './cache-manager.js';
import { InMemoryCacheService } from './memory-cache.js';
import type { CacheService } from './types.js';

describe('CacheManager', () => {
  it('runs the documented usage on the default memory driver', async () => {
    const cacheManager = new CacheManager();
    const cache = cacheManager.getCache('challenges');
    const id = 'abc';
    expect(await cache.get(`challenge:${id}`)).toBeUndefined();
    await cache.set(`challenge:${id}`, { id }, { ttl: 3600 });
    expect(await cache.get(`challenge:${id}`)).toEqual({ id });
    await cacheManager.close();
  });

  it('creates each named cache once from its configuration, and closes them all', async () => {
    const manager = new CacheManager({ defaults: { ttl: 60 }, caches: { users: { maxEntries: 1 } } });
    const users = manager.getCache('users');
    expect(manager.getCache('users')).toBe(users);
    expect(users).toBeInstanceOf(InMemoryCacheService);
    await users.set('a', 1);
    await users.set('b', 2);
    expect(await users.get('a')).toBeUndefined();
    expect(manager.names()).toEqual(['users']);
    await manager.close();
    await manager.close();
    await expect(users.get('b')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });

  it('closes with close(), closeAll() (its deprecated alias) or await using, once', async () => {
    const manager = new CacheManager();
    const cache = manager.getCache('a');
    await cache.getOrSet('k', () => 1);
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the alias is what is tested
    await manager.closeAll();
    await manager.close();
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
    expect(() => manager.getCache('b')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    let disposed: CacheService | undefined;
    {
      await using scoped = new CacheManager();
      disposed = scoped.getCache('c');
      await disposed.set('k', 1);
    }
    await expect(disposed.get('k')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
    await expect(new CacheManager().close({ timeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'timeoutMs',
    });
  });

  it('rejects unknown drivers at construction, pointing at the redis subpath', () => {
    expect(() => new CacheManager({ caches: { x: { driver: 'redis' } } })).toThrow(
      /caches\.x\.driver.*@infra\/cache\/redis/,
    );
    expect(() => new CacheManager({ defaults: { driver: 'nope' } })).toThrow(/nope/);
  });

  it('in strict mode refuses names it was not configured with', () => {
    const manager = new CacheManager({ strict: true, caches: { a: {} } });
    expect(() => manager.getCache('b')).toThrow(/"b"/);
    expect(manager.getCache('a')).toBeDefined();
  });
});
