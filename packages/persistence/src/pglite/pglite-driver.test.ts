import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { databaseDriverContract } from '@infra/test-utils';
import { describe, expect, it } from 'vitest';
import { createPgliteDriver } from './index.js';

databaseDriverContract({ name: 'pglite', create: () => createPgliteDriver({ acquireTimeoutMs: 2000 }) });

describe('createPgliteDriver', () => {
  it('keeps data in a data directory across instances', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'persistence-pglite-'));
    try {
      const first = await createPgliteDriver({ dataDir });
      await first.execute('CREATE TABLE kept (id int); INSERT INTO kept VALUES (7);');
      await first.close();
      const second = await createPgliteDriver({ dataDir });
      expect((await second.query('SELECT id FROM kept')).rows).toEqual([{ id: 7 }]);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('never closes an injected database, and rolls back a transaction a lease left open', async () => {
    const db = await PGlite.create();
    const driver = await createPgliteDriver({ db });
    await driver.query('CREATE TABLE t (id int)');
    const lease = await driver.acquire();
    await lease.query('BEGIN');
    await lease.query('INSERT INTO t VALUES (1)');
    lease.release();
    expect((await driver.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
    await driver.close();
    expect(db.closed).toBe(false);
    await db.close();
  });

  it('validates its options', async () => {
    await expect(createPgliteDriver({ acquireTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'acquireTimeoutMs',
    });
    await expect(createPgliteDriver({ db: {} as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
