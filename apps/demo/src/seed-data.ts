import type { Persistence } from '@infra/persistence';
import type { NewChallenge } from './challenges/challenge.js';
import type { Repositories } from './platform/repositories.js';

/** Fixed ids, so that the README's examples work against a fresh embedded instance. */
export const SAMPLE_CHALLENGES: readonly (NewChallenge & { id: string })[] = [
  {
    id: '00000000-0000-4000-8000-000000000001',
    title: 'FizzBuzz, but streaming',
    description: 'Print FizzBuzz for an unbounded async iterator without buffering.',
    difficulty: 'easy',
    category: 'algorithms',
    points: 10,
  },
  {
    id: '00000000-0000-4000-8000-000000000002',
    title: 'Debounce with cancellation',
    description: 'Write a debounce that honours an AbortSignal and returns a promise.',
    difficulty: 'medium',
    category: 'async',
    points: 20,
  },
  {
    id: '00000000-0000-4000-8000-000000000003',
    title: 'LRU cache in 40 lines',
    description: 'Implement get/set/delete in O(1) with a size bound.',
    difficulty: 'medium',
    category: 'data-structures',
    points: 25,
  },
  {
    id: '00000000-0000-4000-8000-000000000004',
    title: 'Token bucket',
    description: 'Rate-limit calls to 5 per second with bursts of 10, without timers.',
    difficulty: 'medium',
    category: 'resilience',
    points: 25,
  },
  {
    id: '00000000-0000-4000-8000-000000000005',
    title: 'Circuit breaker states',
    description: 'Model closed, open and half-open with a sliding failure window.',
    difficulty: 'hard',
    category: 'resilience',
    points: 40,
  },
  {
    id: '00000000-0000-4000-8000-000000000006',
    title: 'Keyset pagination',
    description: 'Page through a table ordered by (created_at, id) without OFFSET.',
    difficulty: 'medium',
    category: 'databases',
    points: 20,
  },
  {
    id: '00000000-0000-4000-8000-000000000007',
    title: 'Transactional outbox',
    description: 'Publish an event if and only if the order row commits.',
    difficulty: 'hard',
    category: 'messaging',
    points: 45,
  },
  {
    id: '00000000-0000-4000-8000-000000000008',
    title: 'Idempotent consumer',
    description: 'Process each message id once even when the broker redelivers it.',
    difficulty: 'hard',
    category: 'messaging',
    points: 40,
  },
  {
    id: '00000000-0000-4000-8000-000000000009',
    title: 'Parse a Retry-After header',
    description: 'Accept both delta-seconds and HTTP-date forms.',
    difficulty: 'easy',
    category: 'http',
    points: 10,
  },
  {
    id: '00000000-0000-4000-8000-00000000000a',
    title: 'Graceful shutdown',
    description: 'Drain in-flight HTTP requests on SIGTERM within a deadline.',
    difficulty: 'medium',
    category: 'operations',
    points: 30,
  },
  {
    id: '00000000-0000-4000-8000-00000000000b',
    title: 'Cache stampede',
    description: 'Make 1000 concurrent misses run the loader once.',
    difficulty: 'hard',
    category: 'caching',
    points: 40,
  },
  {
    id: '00000000-0000-4000-8000-00000000000c',
    title: 'Problem details',
    description: 'Map error codes to RFC 9457 responses without leaking stack traces.',
    difficulty: 'easy',
    category: 'http',
    points: 15,
  },
];

export const SAMPLE_USERS: readonly { id: string; name: string; points: number }[] = [
  { id: 'alice', name: 'Alice', points: 100 },
  { id: 'bob', name: 'Bob', points: 100 },
  { id: 'carol', name: 'Carol', points: 50 },
];

/**
 * Inserts the sample challenges and users when there are no challenges yet. Safe to run on every
 * start and from several instances at once: rows that exist are left alone.
 */
export async function seedSampleData(persistence: Persistence<Repositories>): Promise<{ seeded: boolean }> {
  return persistence.withTransaction(async (tx) => {
    const challenges = persistence.getRepository('challenge', tx);
    if ((await challenges.count()) > 0) return { seeded: false };
    // Spread the creation times so that the newest-first listing has a stable, readable order.
    const base = Date.now() - SAMPLE_CHALLENGES.length * 1000;
    for (const [index, challenge] of SAMPLE_CHALLENGES.entries()) {
      await tx.query(
        `INSERT INTO challenges (id, title, description, difficulty, category, points, source, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'seed', $7, $7) ON CONFLICT (id) DO NOTHING`,
        [
          challenge.id,
          challenge.title,
          challenge.description,
          challenge.difficulty,
          challenge.category,
          challenge.points,
          new Date(base + index * 1000),
        ],
      );
    }
    const users = persistence.getRepository('user', tx);
    for (const user of SAMPLE_USERS) await users.insert(user.id, user.name, user.points);
    return { seeded: true };
  });
}
