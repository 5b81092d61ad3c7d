import { Repository } from '@infra/persistence';
import type { UserStats } from './user.js';

interface StatsRow {
  completions: number;
  total_score: number | string;
  best_score: number;
  last_completed_at: Date | null;
}

/** The `user_stats` table, written by the `challenge.completed` consumer. */
export class UserStatsRepository extends Repository {
  /** Counts one completion in a single upsert, so concurrent consumers never lose an increment. */
  async recordCompletion(userId: string, score: number, completedAt: Date): Promise<void> {
    await this.execute(
      `INSERT INTO user_stats AS s (user_id, completions, total_score, best_score, last_completed_at)
       VALUES ($1, 1, $2::int, $2::int, $3)
       ON CONFLICT (user_id) DO UPDATE SET
         completions = s.completions + 1,
         total_score = s.total_score + EXCLUDED.total_score,
         best_score = GREATEST(s.best_score, EXCLUDED.best_score),
         last_completed_at = GREATEST(s.last_completed_at, EXCLUDED.last_completed_at)`,
      [userId, score, completedAt],
    );
  }

  async findByUser(userId: string): Promise<UserStats> {
    const row = await this.maybeOne<StatsRow>(
      'SELECT completions, total_score, best_score, last_completed_at FROM user_stats WHERE user_id = $1',
      [userId],
    );
    if (row === null) return { completions: 0, totalScore: 0, bestScore: 0, lastCompletedAt: null };
    return {
      completions: row.completions,
      totalScore: Number(row.total_score),
      bestScore: row.best_score,
      lastCompletedAt: row.last_completed_at === null ? null : new Date(row.last_completed_at),
    };
  }
}
