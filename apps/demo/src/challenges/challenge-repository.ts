import { Repository } from '@infra/persistence';
import type { Challenge, ChallengePatch, ChallengeSource, NewChallenge } from './challenge.js';

interface ChallengeRow {
  id: string;
  title: string;
  description: string;
  difficulty: Challenge['difficulty'];
  category: string;
  points: number;
  source: ChallengeSource;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, title, description, difficulty, category, points, source, created_at, updated_at';

function toChallenge(row: ChallengeRow): Challenge {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    difficulty: row.difficulty,
    category: row.category,
    points: row.points,
    source: row.source,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The `challenges` table. Bound to a transaction, or to the pool for reads outside one. */
export class ChallengeRepository extends Repository {
  async findById(id: string): Promise<Challenge | null> {
    const row = await this.maybeOne<ChallengeRow>(`SELECT ${COLUMNS} FROM challenges WHERE id = $1`, [id]);
    return row === null ? null : toChallenge(row);
  }

  /** A page, newest first (id breaks ties so that pages never overlap). */
  async list(limit: number, offset: number): Promise<Challenge[]> {
    const rows = await this.many<ChallengeRow>(
      `SELECT ${COLUMNS} FROM challenges ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows.map(toChallenge);
  }

  async count(): Promise<number> {
    const row = await this.maybeOne<{ total: number | string }>('SELECT count(*)::int AS total FROM challenges');
    return Number(row?.total ?? 0);
  }

  async insert(id: string, challenge: NewChallenge, source: ChallengeSource): Promise<Challenge> {
    const row = await this.maybeOne<ChallengeRow>(
      `INSERT INTO challenges (id, title, description, difficulty, category, points, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [id, challenge.title, challenge.description, challenge.difficulty, challenge.category, challenge.points, source],
    );
    if (row === null) throw new Error(`INSERT of challenge ${id} returned no row`);
    return toChallenge(row);
  }

  /** Applies the given fields; null when the challenge does not exist. */
  async update(id: string, patch: ChallengePatch): Promise<Challenge | null> {
    const row = await this.maybeOne<ChallengeRow>(
      `UPDATE challenges SET
         title = COALESCE($2, title), description = COALESCE($3, description),
         difficulty = COALESCE($4, difficulty), category = COALESCE($5, category),
         points = COALESCE($6::int, points), updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        patch.title ?? null,
        patch.description ?? null,
        patch.difficulty ?? null,
        patch.category ?? null,
        patch.points ?? null,
      ],
    );
    return row === null ? null : toChallenge(row);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.execute('DELETE FROM challenges WHERE id = $1', [id])) > 0;
  }
}
