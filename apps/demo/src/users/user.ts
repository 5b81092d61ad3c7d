export interface User {
  id: string;
  name: string;
  points: number;
  createdAt: Date;
}

/** Per-user statistics, kept by the `challenge.completed` consumer. */
export interface UserStats {
  completions: number;
  totalScore: number;
  bestScore: number;
  lastCompletedAt: Date | null;
}

export interface PointTransfer {
  id: string;
  from: string;
  to: string;
  amount: number;
  createdAt: Date;
}
