import { Repository, type UnitOfWork } from '../src/index.js';

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

/**
 * The service function of the documented usage, unchanged but for types (and a check that both
 * accounts exist) and for where its unit of work comes from: `createUnitOfWork()` of the default
 * persistence, or of a `Persistence`.
 */
export function documentedTransferFunds(
  createUnitOfWork: () => Promise<UnitOfWork<{ account: AccountRepository }>>,
): (fromAccountId: number, toAccountId: number, amount: number) => Promise<{ success: boolean }> {
  return async function transferFunds(fromAccountId, toAccountId, amount) {
    // Create unit of work
    const unitOfWork = await createUnitOfWork();

    try {
      // Start transaction
      await unitOfWork.begin();

      // Get repositories with active transaction
      const accountRepo = unitOfWork.getRepository('account');

      // Execute operations
      const fromAccount = await accountRepo.findById(fromAccountId);
      const toAccount = await accountRepo.findById(toAccountId);
      // Types only: the documented usage assumes both accounts exist.
      if (fromAccount === null || toAccount === null) throw new Error('No such account');

      // Update accounts
      fromAccount.balance -= amount;
      toAccount.balance += amount;

      // Save changes
      await accountRepo.save(fromAccount);
      await accountRepo.save(toAccount);

      // Commit transaction
      await unitOfWork.commit();

      return { success: true };
    } catch (error) {
      // Rollback transaction on error
      await unitOfWork.rollback();
      throw error;
    }
  };
}
