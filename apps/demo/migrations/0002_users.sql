CREATE TABLE IF NOT EXISTS users (
  id text PRIMARY KEY,
  name text NOT NULL,
  points integer NOT NULL DEFAULT 0 CHECK (points >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS challenge_completions (
  id bigserial PRIMARY KEY,
  challenge_id uuid NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users (id),
  score integer NOT NULL CHECK (score >= 0),
  completed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS challenge_completions_user_idx ON challenge_completions (user_id);

-- Filled asynchronously by the challenge.completed consumer.
CREATE TABLE IF NOT EXISTS user_stats (
  user_id text PRIMARY KEY REFERENCES users (id),
  completions integer NOT NULL DEFAULT 0,
  total_score bigint NOT NULL DEFAULT 0,
  best_score integer NOT NULL DEFAULT 0,
  last_completed_at timestamptz
);

CREATE TABLE IF NOT EXISTS point_transfers (
  id bigserial PRIMARY KEY,
  from_user text NOT NULL REFERENCES users (id),
  to_user text NOT NULL REFERENCES users (id),
  amount integer NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
