/**
 * The statements of the Postgres transport, built once per schema. Three tables:
 * - `messages`: every published message, stored once (`seq` is the publish order);
 * - `queues`: one row per topic and consumer group;
 * - `deliveries`: one row per message and queue until the group acknowledges it. A row is visible
 *   to the group when `visible_at` has passed; taking it sets a fresh `lease` and pushes
 *   `visible_at` a visibility timeout ahead, so that a delivery whose consumer died comes back.
 */
export interface PostgresStatements {
  /** The LISTEN/NOTIFY channel: the schema name. */
  readonly channel: string;
  readonly createSchema: string;
  readonly lockKey: string;
  readonly publish: string;
  readonly findQueue: string;
  readonly createQueue: string;
  readonly lockMessages: string;
  readonly backfillQueue: string;
  readonly take: string;
  readonly nextVisible: string;
  readonly ack: string;
  readonly inboxAck: string;
  readonly extend: string;
  readonly release: string;
  readonly backlog: string;
  readonly prune: string;
  readonly neverAnalyzed: string;
  readonly analyze: string;
}

export function postgresStatements(schema: string): PostgresStatements {
  const s = `"${schema}"`;
  return {
    channel: schema,
    lockKey: `@infra/messaging:${schema}`,
    createSchema: `
      CREATE SCHEMA IF NOT EXISTS ${s};
      CREATE TABLE IF NOT EXISTS ${s}.messages (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic text NOT NULL,
        message_id text NOT NULL,
        key text,
        headers jsonb NOT NULL,
        body text,
        body_bin bytea,
        published_at bigint NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS messages_topic_seq ON ${s}.messages (topic, seq);
      CREATE INDEX IF NOT EXISTS messages_stored_at ON ${s}.messages (stored_at);
      CREATE TABLE IF NOT EXISTS ${s}.queues (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic text NOT NULL,
        group_name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (topic, group_name)
      );
      -- Half of each page kept free: a take or a lease renewal rewrites a delivery in place (a HOT
      -- update, no new index entries) instead of on another page. With full pages about 5 % of
      -- those updates were HOT, with half-full ones about 80 %, and consuming ran about 8 % faster.
      CREATE TABLE IF NOT EXISTS ${s}.deliveries (
        queue_id integer NOT NULL,
        seq bigint NOT NULL,
        key text,
        visible_at timestamptz NOT NULL DEFAULT '-infinity',
        delivery_count integer NOT NULL DEFAULT 0,
        lease uuid,
        PRIMARY KEY (queue_id, seq)
      ) WITH (fillfactor = 50);
      CREATE INDEX IF NOT EXISTS deliveries_key ON ${s}.deliveries (queue_id, key, seq) WHERE key IS NOT NULL;
      CREATE INDEX IF NOT EXISTS deliveries_seq ON ${s}.deliveries (seq);`,
    // One statement: the messages, a delivery for every queue of their topics, and one NOTIFY
    // (sent on commit) naming the queues that got something.
    publish: `
      WITH m AS (
        INSERT INTO ${s}.messages (topic, message_id, key, headers, body, body_bin, published_at)
        SELECT topic, message_id, key, headers, body, body_bin, published_at
        FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::bytea[], $7::bigint[])
          WITH ORDINALITY AS u(topic, message_id, key, headers, body, body_bin, published_at, n)
        ORDER BY n
        RETURNING seq, topic, key
      ), d AS (
        INSERT INTO ${s}.deliveries (queue_id, seq, key)
        SELECT q.id, m.seq, m.key FROM m JOIN ${s}.queues q ON q.topic = m.topic
        RETURNING queue_id
      )
      SELECT (SELECT count(*) FROM m)::int AS stored,
             (SELECT pg_notify('${schema}', string_agg(DISTINCT queue_id::text, ',')) FROM d HAVING count(*) > 0)`,
    findQueue: `SELECT id FROM ${s}.queues WHERE topic = $1 AND group_name = $2`,
    createQueue: `INSERT INTO ${s}.queues (topic, group_name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id`,
    // Held while a new group that starts from the earliest message is filled: a publish running
    // meanwhile either finished before (and is copied) or waits and then sees the new queue.
    lockMessages: `LOCK TABLE ${s}.messages IN SHARE MODE`,
    backfillQueue: `
      INSERT INTO ${s}.deliveries (queue_id, seq, key)
      SELECT $1, seq, key FROM ${s}.messages WHERE topic = $2 ORDER BY seq
      ON CONFLICT DO NOTHING`,
    // Takes up to $2 visible deliveries in publish order, skipping rows other consumers hold
    // locked, and a keyed message while an earlier one of its key is still in the queue (in flight
    // or waiting): that is what keeps per-key order across the consumers of a group. The rows picked
    // are updated by their ctid (a TID scan; they stay locked, so it cannot change) and their messages
    // read by `seq = ANY(…)` (an index scan): joined instead, the planner hashes the whole queue and
    // the whole messages table on every take, which cost 15 ms instead of 3 ms with 20 000 waiting.
    take: `
      WITH picked AS (
        SELECT d.ctid FROM ${s}.deliveries d
        WHERE d.queue_id = $1 AND d.visible_at <= clock_timestamp()
          AND (d.key IS NULL OR NOT EXISTS (
            SELECT 1 FROM ${s}.deliveries e WHERE e.queue_id = d.queue_id AND e.key = d.key AND e.seq < d.seq))
        ORDER BY d.seq
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      ), taken AS (
        UPDATE ${s}.deliveries d
        SET visible_at = clock_timestamp() + $3 * interval '1 millisecond',
            delivery_count = d.delivery_count + 1,
            lease = gen_random_uuid()
        WHERE d.ctid = ANY(ARRAY(SELECT ctid FROM picked))
        RETURNING d.seq, d.delivery_count, d.lease
      )
      SELECT t.seq::text AS seq, t.delivery_count, t.lease, m.message_id, m.key, m.headers, m.body, m.body_bin,
             m.published_at::float8 AS published_at
      FROM taken t JOIN ${s}.messages m ON m.seq = t.seq
      WHERE m.seq = ANY(ARRAY(SELECT seq FROM taken))
      ORDER BY t.seq`,
    // Milliseconds until the next delivery in flight becomes visible again (its consumer died).
    nextVisible: `
      SELECT (extract(epoch FROM (min(visible_at) - clock_timestamp())) * 1000)::float8 AS ms
      FROM ${s}.deliveries WHERE queue_id = $1 AND visible_at > clock_timestamp()`,
    // Only the lease holder's acknowledgement counts; acknowledging a keyed message may release the
    // next one of its key, so the queue's consumers are told. `seq = ANY($2)` lets the planner find
    // the rows by index (a join with the pairs alone hashes the whole queue: 4.7 ms instead of 1.3).
    ack: `
      WITH acked AS (
        DELETE FROM ${s}.deliveries d
        WHERE d.queue_id = $1 AND d.seq = ANY($2::bigint[])
          AND (d.seq, d.lease) IN (SELECT * FROM unnest($2::bigint[], $3::uuid[]))
        RETURNING d.key
      )
      SELECT pg_notify('${schema}', $1::text) FROM acked WHERE key IS NOT NULL LIMIT 1`,
    inboxAck: `DELETE FROM ${s}.deliveries WHERE queue_id = $1 AND seq = $2 AND lease = $3`,
    // Rows locked by a transaction acknowledging them (the inbox) are skipped, not waited for.
    extend: `
      UPDATE ${s}.deliveries d SET visible_at = clock_timestamp() + $4 * interval '1 millisecond'
      FROM (
        SELECT e.seq FROM ${s}.deliveries e
        WHERE e.queue_id = $1 AND e.seq = ANY($2::bigint[])
          AND (e.seq, e.lease) IN (SELECT * FROM unnest($2::bigint[], $3::uuid[]))
        FOR UPDATE OF e SKIP LOCKED
      ) x
      WHERE d.queue_id = $1 AND d.seq = ANY($2::bigint[]) AND d.seq = x.seq`,
    release: `
      WITH released AS (
        UPDATE ${s}.deliveries d SET visible_at = '-infinity'
        WHERE d.queue_id = $1 AND d.seq = ANY($2::bigint[])
          AND (d.seq, d.lease) IN (SELECT * FROM unnest($2::bigint[], $3::uuid[]))
        RETURNING 1
      )
      SELECT pg_notify('${schema}', $1::text) FROM released LIMIT 1`,
    backlog: `
      SELECT count(*) FILTER (WHERE d.visible_at > clock_timestamp())::int AS pending,
             count(*) FILTER (WHERE d.visible_at <= clock_timestamp())::int AS lag
      FROM ${s}.queues q LEFT JOIN ${s}.deliveries d ON d.queue_id = q.id
      WHERE q.topic = $1 AND q.group_name = $2`,
    // Messages past retention that no queue still holds.
    prune: `
      DELETE FROM ${s}.messages WHERE seq IN (
        SELECT m.seq FROM ${s}.messages m
        WHERE m.stored_at < now() - $1 * interval '1 millisecond'
          AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries d WHERE d.seq = m.seq)
        ORDER BY m.seq LIMIT 10000)`,
    // Whether the deliveries table has statistics yet (by ANALYZE or autovacuum).
    neverAnalyzed: `
      SELECT coalesce(last_analyze, last_autoanalyze) IS NULL AS never
      FROM pg_stat_user_tables WHERE relid = '${s}.deliveries'::regclass`,
    analyze: `ANALYZE ${s}.deliveries, ${s}.messages`,
  };
}
