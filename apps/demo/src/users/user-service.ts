import type { Persistence } from '@infra/persistence';
import { DemoError, InsufficientPointsError, UserNotFoundError } from '../errors.js';
import type { Repositories } from '../platform/repositories.js';
import type { PointTransfer, User, UserStats } from './user.js';

/** Users, their points, and their statistics. */
export class UserService {
  constructor(private readonly persistence: Persistence<Repositories>) {}

  async createUser(id: string, name: string, points = 0): Promise<User> {
    const created = await this.persistence.withTransaction((tx) =>
      this.persistence.getRepository('user', tx).insert(id, name, points),
    );
    if (!created) throw new DemoError('USER_ALREADY_EXISTS', `User "${id}" already exists`);
    return created;
  }

  async getUser(id: string): Promise<User & { stats: UserStats }> {
    return this.persistence.withTransaction(
      async (tx) => {
        const user = await this.persistence.getRepository('user', tx).findById(id);
        if (!user) throw new UserNotFoundError(id);
        const stats = await this.persistence.getRepository('userStats', tx).findByUser(id);
        return { ...user, stats };
      },
      { readOnly: true },
    );
  }

  /**
   * Moves points between two users in one transaction of the transaction manager: both rows are
   * locked (in id order, so opposite transfers cannot deadlock), the balance is checked, both are
   * saved and the transfer is recorded, or nothing is.
   */
  async transferPoints(
    from: string,
    to: string,
    amount: number,
  ): Promise<PointTransfer & { balances: Record<string, number> }> {
    if (from === to) throw new DemoError('INVALID_TRANSFER', `Cannot transfer points from "${from}" to itself`);
    if (!Number.isSafeInteger(amount) || amount < 1) {
      throw new DemoError('INVALID_ARGUMENT', `Invalid "amount": expected a positive integer, got ${String(amount)}`);
    }
    return this.persistence.transactionManager.withTransaction(async (tx) => {
      const users = this.persistence.getRepository('user', tx);
      const locked = await users.lockMany([from, to]);
      const sender = locked.get(from);
      const receiver = locked.get(to);
      if (!sender) throw new UserNotFoundError(from);
      if (!receiver) throw new UserNotFoundError(to);
      if (sender.points < amount) throw new InsufficientPointsError(from, sender.points, amount);
      sender.points -= amount;
      receiver.points += amount;
      await users.save(sender);
      await users.save(receiver);
      const transfer = await users.recordTransfer(from, to, amount);
      return { ...transfer, balances: { [from]: sender.points, [to]: receiver.points } };
    });
  }
}
