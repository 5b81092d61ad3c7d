CREATE TABLE IF NOT EXISTS challenges (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  description text NOT NULL,
  difficulty text NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
  category text NOT NULL,
  points integer NOT NULL CHECK (points >= 0),
  source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'seed', 'openai', 'template')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS challenges_created_idx ON challenges (created_at DESC, id DESC);
