// Read-through caching of a slow lookup with @infra/cache: the first read loads, the next ones hit.
import { CacheManager } from '@infra/cache';

// A stand-in for a database repository.
let loads = 0;
const challengeRepository = {
  /** @param {string} id */
  async findById(id) {
    loads += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { id, title: `Challenge ${id}`, points: 10 };
  },
};

const cacheManager = new CacheManager(); // memory driver by default
const cache = cacheManager.getCache('challenges');

/** @param {string} id */
async function getChallenge(id) {
  const cached = await cache.get(`challenge:${id}`); // undefined on a miss
  if (cached !== undefined) return cached;
  const challenge = await challengeRepository.findById(id);
  await cache.set(`challenge:${id}`, challenge, { ttl: 3600 }); // ttl in SECONDS
  return challenge;
}

console.log(await getChallenge('42'));
console.log(await getChallenge('42'));
// getOrSet does the same in one call, and runs the loader once however many callers miss at once.
const [a, b] = await Promise.all([
  cache.getOrSet('challenge:7', () => challengeRepository.findById('7'), { ttl: 60 }),
  cache.getOrSet('challenge:7', () => challengeRepository.findById('7'), { ttl: 60 }),
]);
console.log(a.title, b.title, `loads: ${loads}`);
await cacheManager.close();
