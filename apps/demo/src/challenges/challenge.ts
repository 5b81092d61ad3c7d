export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

/** Where a challenge came from. */
export type ChallengeSource = 'manual' | 'seed' | 'openai' | 'template';

export interface Challenge {
  id: string;
  title: string;
  description: string;
  difficulty: Difficulty;
  category: string;
  /** Points a perfect completion is worth. */
  points: number;
  source: ChallengeSource;
  createdAt: Date;
  updatedAt: Date;
}

/** Fields a client sends to create a challenge. */
export interface NewChallenge {
  title: string;
  description: string;
  difficulty: Difficulty;
  category: string;
  points: number;
}

export type ChallengePatch = Partial<NewChallenge>;

export interface ChallengeCompletion {
  id: string;
  challengeId: string;
  userId: string;
  score: number;
  completedAt: Date;
}

/** Payload of the `challenge.completed` message. */
export interface ChallengeCompletedEvent {
  completionId: string;
  userId: string;
  challengeId: string;
  score: number;
  timestamp: string;
}
