// Publish a domain event and handle it with @infra/messaging, on the in-memory default bus
// (configureMessaging() switches it to Redis Streams or Kafka without changing this code).
import { closeMessaging, messageConsumer, messagePublisher } from '@infra/messaging';

/** @type {Array<{ userId: string, challengeId: string, score: number }>} */
const leaderboard = [];

/** @param {{ userId: string, challengeId: string, score: number }} payload */
async function challengeCompletedHandler(payload) {
  const { userId, challengeId, score } = payload;
  leaderboard.push({ userId, challengeId, score });
  console.log(`handled challenge.completed: ${userId} scored ${score} on ${challengeId}`);
}

const subscription = messageConsumer.subscribe('challenge.completed', challengeCompletedHandler);
await subscription.ready();

/** @param {string} userId @param {string} challengeId @param {number} score */
async function completeChallenge(userId, challengeId, score) {
  // Domain logic: record the completion, then tell the rest of the system.
  const result = { userId, challengeId, score, completed: true };
  await messagePublisher.publish('challenge.completed', {
    userId,
    challengeId,
    score,
    timestamp: new Date().toISOString(),
  });
  return result;
}

console.log(await completeChallenge('user-1', 'challenge-7', 90));
console.log(await completeChallenge('user-2', 'challenge-7', 75));
// close() drains: it returns once every message published so far has been handled.
await closeMessaging({ timeoutMs: 5000 });
console.log(`leaderboard has ${leaderboard.length} entries`);
if (leaderboard.length !== 2) process.exitCode = 1;
