import type { RepositoryFactories } from '@infra/persistence';
import { ChallengeRepository } from '../challenges/challenge-repository.js';
import { CompletionRepository } from '../challenges/completion-repository.js';
import { UserRepository } from '../users/user-repository.js';
import { UserStatsRepository } from '../users/user-stats-repository.js';

/** The repositories a unit of work hands out, by name. */
export interface Repositories {
  challenge: ChallengeRepository;
  completion: CompletionRepository;
  user: UserRepository;
  userStats: UserStatsRepository;
}

export const repositoryFactories: RepositoryFactories<Repositories> = {
  challenge: (tx) => new ChallengeRepository(tx),
  completion: (tx) => new CompletionRepository(tx),
  user: (tx) => new UserRepository(tx),
  userStats: (tx) => new UserStatsRepository(tx),
};
