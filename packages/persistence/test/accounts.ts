import { Repository } from '../src/index.js';

export interface Account {
  id: number;
  balance: number;
}

/** The application's repository of the documented usage: plain SQL, locking the row it reads for update. */
export class AccountRepository extends Repository {
  async findById(id: number): Promise<Account | null> {
    return this.maybeOne<Account>('SELECT id, balance FROM accounts WHERE id = $1 FOR UPDATE', [id]);
  }

  async save(account: Account): Promise<void> {
    await this.execute('UPDATE accounts SET balance = $2 WHERE id = $1', [account.id, account.balance]);
  }

  async total(): Promise<number> {
    const row = await this.maybeOne<{ total: number }>('SELECT coalesce(sum(balance), 0)::int AS total FROM accounts');
    return row?.total ?? 0;
  }
}

export const accountsSchema = 'CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0));';
