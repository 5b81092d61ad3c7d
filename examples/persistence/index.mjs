// A money transfer as a unit of work with @infra/persistence, on PGlite in memory (set DATABASE_URL
// and install pg to run it on a real Postgres): both balances change, or neither does.
import { fileURLToPath } from 'node:url';
import { Repository, closePersistence, configurePersistence, createUnitOfWork } from '@infra/persistence';

class AccountRepository extends Repository {
  /** @param {string} id */
  async findById(id) {
    // Locks the row until the unit of work ends.
    const account = await this.maybeOne('SELECT id, balance FROM accounts WHERE id = $1 FOR UPDATE', [id]);
    if (!account) throw new Error(`no account ${id}`);
    return /** @type {{ id: string, balance: number }} */ (account);
  }
  /** @param {{ id: string, balance: number }} account */
  async save(account) {
    await this.execute('UPDATE accounts SET balance = $2 WHERE id = $1', [account.id, account.balance]);
  }
}

const persistence = configurePersistence({
  // connectionString defaults to process.env.DATABASE_URL; without one, PGlite in memory.
  repositories: { account: (tx) => new AccountRepository(tx) },
});
await persistence.migrate({ migrations: fileURLToPath(new URL('./migrations', import.meta.url)) });

/** @param {string} fromAccountId @param {string} toAccountId @param {number} amount */
async function transferFunds(fromAccountId, toAccountId, amount) {
  const unitOfWork = await createUnitOfWork();
  try {
    await unitOfWork.begin();
    const accountRepo = /** @type {AccountRepository} */ (unitOfWork.getRepository('account'));
    const fromAccount = await accountRepo.findById(fromAccountId);
    const toAccount = await accountRepo.findById(toAccountId);
    fromAccount.balance -= amount;
    toAccount.balance += amount;
    await accountRepo.save(fromAccount);
    await accountRepo.save(toAccount);
    await unitOfWork.commit();
    return { success: true };
  } catch (error) {
    await unitOfWork.rollback(); // a no-op after a failed begin() or commit(): the first error wins
    throw error;
  }
}

console.log(await transferFunds('alice', 'bob', 30));
try {
  await transferFunds('bob', 'alice', 500); // bob's balance would go negative: the CHECK refuses it
} catch (error) {
  console.log('refused:', error instanceof Error ? error.message : error);
}
const { rows } = await persistence.db.query('SELECT id, balance FROM accounts ORDER BY id');
console.log(rows); // alice 70, bob 50: the refused transfer changed nothing
await closePersistence();
