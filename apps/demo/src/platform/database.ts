import { fileURLToPath } from 'node:url';
import type { Logger } from '@infra/core';
import { idempotencyMigration } from '@infra/messaging/outbox';
import { Persistence, loadMigrations, outboxMigration, type MigrationResult } from '@infra/persistence';
import type { AppConfig } from '../config.js';
import { repositoryFactories, type Repositories } from './repositories.js';

/** SQL migrations shipped with the service (beside `src/` and `dist/`). */
export const migrationsDirectory: string = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * The service's database: real Postgres through `pg` when `DATABASE_URL` is set, else PGlite
 * (in memory, or in `PGLITE_DATA_DIR`). Not connected yet: {@link migrateDatabase} connects.
 */
export function createPersistence(config: AppConfig['database'], logger: Logger): Persistence<Repositories> {
  return new Persistence<Repositories>(
    {
      ...(config.url === undefined ? {} : { connectionString: config.url, poolSize: config.poolSize }),
      ...(config.pgliteDataDir === undefined ? {} : { dataDir: config.pgliteDataDir }),
      ...(config.schema === undefined ? {} : { searchPath: config.schema }),
      // Fail fast enough for a request: a dead database must not hold a client for the default 10 s.
      acquireTimeoutMs: config.acquireTimeoutMs,
      connectTimeoutMs: 3000,
      healthTimeoutMs: 1000,
      repositories: repositoryFactories,
      logger,
    },
    // Only explicit configuration counts: the DATABASE_URL variable was already read by loadConfig.
    {},
  );
}

/**
 * Creates the service's schema if it has one, then applies the outbox table, the consumers' dedupe
 * table and the service's own migrations.
 */
export async function migrateDatabase(
  persistence: Persistence<Repositories>,
  schema: string | undefined,
): Promise<MigrationResult> {
  if (schema !== undefined) {
    // The name was checked against /^[a-z_][a-z0-9_]*$/ by loadConfig: quoting is enough.
    await persistence.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  }
  const migrations = [outboxMigration(), idempotencyMigration(), ...(await loadMigrations(migrationsDirectory))];
  return persistence.migrate({ migrations });
}

/**
 * Opens `count` connections of a Postgres pool at start (PGlite has one, always open), so that the
 * first burst of requests does not queue behind connections being opened; they return to the pool
 * idle. Returns how many were opened.
 */
export async function warmPool(persistence: Persistence<Repositories>, count: number): Promise<number> {
  const { driver } = persistence;
  if (!driver.capabilities.concurrentConnections || count <= 0) return 0;
  const leases = await Promise.allSettled(Array.from({ length: count }, () => driver.acquire()));
  let opened = 0;
  for (const lease of leases) {
    if (lease.status === 'fulfilled') {
      opened += 1;
      lease.value.release();
    }
  }
  const failed = leases.find((lease) => lease.status === 'rejected');
  if (failed !== undefined && opened === 0) throw failed.reason;
  return opened;
}
