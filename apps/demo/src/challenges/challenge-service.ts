import { randomUUID } from 'node:crypto';
import type { CacheService } from '@infra/cache';
import type { Transaction, UnitOfWork } from '@infra/persistence';
import { ChallengeNotFoundError, DemoError, UserNotFoundError } from '../errors.js';
import type { Repositories } from '../platform/repositories.js';
import type {
  Challenge,
  ChallengeCompletedEvent,
  ChallengeCompletion,
  ChallengePatch,
  ChallengeSource,
  NewChallenge,
} from './challenge.js';
import type { ChallengeRepository } from './challenge-repository.js';

/** Writes a message in the caller's transaction (the outbox), so it exists only if that commits. */
export type OutboxWriter = (
  tx: Transaction,
  topic: string,
  payload: unknown,
  options: { key: string },
) => Promise<unknown>;

export interface ChallengeServiceDependencies {
  /** Source of the `challenges` cache. */
  cacheManager: { getCache(name: string): CacheService };
  /** Reads outside a transaction (the cache-aside path). */
  challengeRepository: ChallengeRepository;
  /** A new unit of work of the service's database. */
  createUnitOfWork: () => Promise<UnitOfWork<Repositories>>;
  /** Adds `challenge.completed` to the outbox inside the completion's transaction. */
  addToOutbox: OutboxWriter;
  /** Called after a completion committed, e.g. to wake the outbox relay at once. */
  onCompleted?: (completion: ChallengeCompletion) => void;
}

export const CHALLENGE_COMPLETED = 'challenge.completed';

/** Challenges: cache-aside reads, CRUD with cache invalidation, and completions in a unit of work. */
export class ChallengeService {
  private readonly cacheManager: ChallengeServiceDependencies['cacheManager'];
  private readonly challengeRepository: ChallengeRepository;
  private readonly cache: CacheService;
  private readonly createUnitOfWork: ChallengeServiceDependencies['createUnitOfWork'];
  private readonly addToOutbox: OutboxWriter;
  private readonly onCompleted: ((completion: ChallengeCompletion) => void) | undefined;

  constructor({
    cacheManager,
    challengeRepository,
    createUnitOfWork,
    addToOutbox,
    onCompleted,
  }: ChallengeServiceDependencies) {
    this.cacheManager = cacheManager;
    this.challengeRepository = challengeRepository;
    this.cache = this.cacheManager.getCache('challenges');
    this.createUnitOfWork = createUnitOfWork;
    this.addToOutbox = addToOutbox;
    this.onCompleted = onCompleted;
  }

  async getChallengeById(id: string): Promise<Challenge | null> {
    // Try to get from cache first
    const cached = await this.cache.get<Challenge>(`challenge:${id}`);
    if (cached) {
      return cached;
    }

    // Fetch from repository
    const challenge = await this.challengeRepository.findById(id);
    if (challenge) {
      // Store in cache with expiration
      await this.cache.set(`challenge:${id}`, challenge, { ttl: 3600 });
    }

    return challenge;
  }

  /** Like {@link getChallengeById}, but a missing challenge is a `CHALLENGE_NOT_FOUND` error. */
  async requireChallenge(id: string): Promise<Challenge> {
    const challenge = await this.getChallengeById(id);
    if (!challenge) throw new ChallengeNotFoundError(id);
    return challenge;
  }

  async listChallenges(pagination: { limit: number; offset: number }): Promise<{ data: Challenge[]; total: number }> {
    const [data, total] = await Promise.all([
      this.challengeRepository.list(pagination.limit, pagination.offset),
      this.challengeRepository.count(),
    ]);
    return { data, total };
  }

  async createChallenge(input: NewChallenge, source: ChallengeSource = 'manual'): Promise<Challenge> {
    return this.challengeRepository.insert(randomUUID(), input, source);
  }

  async updateChallenge(id: string, patch: ChallengePatch): Promise<Challenge> {
    const updated = await this.challengeRepository.update(id, patch);
    if (!updated) throw new ChallengeNotFoundError(id);
    // After the write: a reader that fills the cache from now on sees the new row.
    await this.cache.delete(`challenge:${id}`);
    return updated;
  }

  async deleteChallenge(id: string): Promise<void> {
    const deleted = await this.challengeRepository.delete(id);
    await this.cache.delete(`challenge:${id}`);
    if (!deleted) throw new ChallengeNotFoundError(id);
  }

  /**
   * Records a completion, credits the score to the user and writes `challenge.completed` to the
   * outbox, all in one unit of work: either all of it happens or none of it.
   */
  async completeChallenge(challengeId: string, userId: string, score: number): Promise<ChallengeCompletion> {
    // Create unit of work
    const unitOfWork = await this.createUnitOfWork();
    let completion: ChallengeCompletion;
    try {
      // Start transaction
      await unitOfWork.begin();

      // Get repositories with active transaction
      const challengeRepo = unitOfWork.getRepository('challenge');
      const userRepo = unitOfWork.getRepository('user');
      const completionRepo = unitOfWork.getRepository('completion');

      const challenge = await challengeRepo.findById(challengeId);
      if (!challenge) throw new ChallengeNotFoundError(challengeId);
      if (score > challenge.points) {
        throw new DemoError(
          'INVALID_ARGUMENT',
          `Invalid "score": challenge "${challengeId}" is worth at most ${challenge.points} points, got ${score}`,
        );
      }
      if (!(await userRepo.addPoints(userId, score))) throw new UserNotFoundError(userId);
      completion = await completionRepo.insert(challengeId, userId, score);

      const event: ChallengeCompletedEvent = {
        completionId: completion.id,
        userId,
        challengeId,
        score,
        timestamp: completion.completedAt.toISOString(),
      };
      // The key keeps one user's completions in order on partitioned buses.
      await this.addToOutbox(unitOfWork.transaction, CHALLENGE_COMPLETED, event, { key: userId });

      // Commit transaction
      await unitOfWork.commit();
    } catch (error) {
      // Rollback transaction on error
      await unitOfWork.rollback();
      throw error;
    }
    this.onCompleted?.(completion);
    return completion;
  }
}
