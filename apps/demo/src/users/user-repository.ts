import { Repository } from '@infra/persistence';
import type { PointTransfer, User } from './user.js';

interface UserRow {
  id: string;
  name: string;
  points: number;
  created_at: Date;
}

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, points: row.points, createdAt: new Date(row.created_at) };
}

/** The `users` table and the `point_transfers` ledger. */
export class UserRepository extends Repository {
  async findById(id: string): Promise<User | null> {
    const row = await this.maybeOne<UserRow>('SELECT id, name, points, created_at FROM users WHERE id = $1', [id]);
    return row === null ? null : toUser(row);
  }

  /** Locks the rows in id order, so that two transfers between the same users cannot deadlock. */
  async lockMany(ids: readonly string[]): Promise<Map<string, User>> {
    const rows = await this.many<UserRow>(
      'SELECT id, name, points, created_at FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
      [[...ids]],
    );
    return new Map(rows.map((row) => [row.id, toUser(row)]));
  }

  /** Inserts a user; null when the id is taken. */
  async insert(id: string, name: string, points: number): Promise<User | null> {
    const row = await this.maybeOne<UserRow>(
      'INSERT INTO users (id, name, points) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id, name, points, created_at',
      [id, name, points],
    );
    return row === null ? null : toUser(row);
  }

  async save(user: User): Promise<void> {
    await this.execute('UPDATE users SET name = $2, points = $3 WHERE id = $1', [user.id, user.name, user.points]);
  }

  /** Adds points in one statement (no read-modify-write race). False when the user does not exist. */
  async addPoints(id: string, points: number): Promise<boolean> {
    return (await this.execute('UPDATE users SET points = points + $2 WHERE id = $1', [id, points])) > 0;
  }

  async recordTransfer(from: string, to: string, amount: number): Promise<PointTransfer> {
    const row = await this.maybeOne<{ id: string; created_at: Date }>(
      'INSERT INTO point_transfers (from_user, to_user, amount) VALUES ($1, $2, $3) RETURNING id::text AS id, created_at',
      [from, to, amount],
    );
    if (row === null) throw new Error('INSERT of a point transfer returned no row');
    return { id: row.id, from, to, amount, createdAt: new Date(row.created_at) };
  }
}
