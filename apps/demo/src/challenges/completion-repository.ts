import { Repository } from '@infra/persistence';
import type { ChallengeCompletion } from './challenge.js';

interface CompletionRow {
  id: string;
  challenge_id: string;
  user_id: string;
  score: number;
  completed_at: Date;
}

/** The `challenge_completions` table. */
export class CompletionRepository extends Repository {
  async insert(challengeId: string, userId: string, score: number): Promise<ChallengeCompletion> {
    const row = await this.maybeOne<CompletionRow>(
      `INSERT INTO challenge_completions (challenge_id, user_id, score) VALUES ($1, $2, $3)
       RETURNING id::text AS id, challenge_id, user_id, score, completed_at`,
      [challengeId, userId, score],
    );
    if (row === null) throw new Error(`INSERT of a completion of challenge ${challengeId} returned no row`);
    return {
      id: row.id,
      challengeId: row.challenge_id,
      userId: row.user_id,
      score: row.score,
      completedAt: new Date(row.completed_at),
    };
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.maybeOne<{ total: number }>(
      'SELECT count(*)::int AS total FROM challenge_completions WHERE user_id = $1',
      [userId],
    );
    return row?.total ?? 0;
  }
}
