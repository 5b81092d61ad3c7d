import type { Persistence } from '@infra/persistence';
import type { ChallengeCompletedEvent } from '../challenges/challenge.js';
import type { Repositories } from '../platform/repositories.js';

/**
 * Builds the statistics update of one `challenge.completed` message. It runs in the ambient
 * transaction the consumer opened, together with the message's dedupe record (see
 * `createMessaging`), so a redelivered message changes nothing.
 */
export function createChallengeCompletedHandler(
  persistence: Persistence<Repositories>,
): (event: ChallengeCompletedEvent) => Promise<void> {
  return async ({ userId, score, timestamp }) => {
    const stats = persistence.getRepository('userStats');
    await stats.recordCompletion(userId, score, new Date(timestamp));
  };
}
