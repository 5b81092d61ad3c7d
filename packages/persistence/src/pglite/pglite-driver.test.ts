import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseDriverContract } from '@infra/test-utils';
import { describe, expect, inject, it } from 'vitest';
import { sharedPglite } from '../../test/databases.js';
import { createPgliteDriver } from './index.js';

// On the file's shared database (an injected one, which the contract's close() leaves open).
databaseDriverContract({
  name: 'pglite',
  create: async () => createPgliteDriver({ db: await sharedPglite(), acquireTimeoutMs: 60_000 }),
});

describe('createPgliteDriver', () => {
  // One test for the databases the driver creates: each costs seconds to start on a busy machine.
  it('keeps data in a data directory across instances, and closes its own database by the deadline', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'persistence-pglite-'));
    try {
      // The first instance starts from the run's template instead of running initdb in dataDir.
      const template = new Blob([await readFile(inject('pgliteTemplate'))]);
      const first = await createPgliteDriver({ dataDir, pgliteOptions: { loadDataDir: template } });
      await first.execute('CREATE TABLE kept (id int); INSERT INTO kept VALUES (7);');
      // A lease that is never given back delays close() by its deadline only.
      const lease = await first.acquire();
      const waiting = first.acquire().catch((error: unknown) => error);
      await first.close({ timeoutMs: 0 });
      expect(await waiting).toMatchObject({ code: 'CLOSED' });
      expect(first.db.closed).toBe(true);
      lease.release();
      await first[Symbol.asyncDispose]();
      await expect(first.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });

      const second = await createPgliteDriver({ dataDir });
      expect((await second.query('SELECT id FROM kept')).rows).toEqual([{ id: 7 }]);
      await second.close();
      expect(second.db.closed).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('never closes an injected database, and rolls back a transaction a lease left open', async () => {
    const db = await sharedPglite();
    const driver = await createPgliteDriver({ db });
    await driver.query('CREATE TABLE left_open (id int)');
    const lease = await driver.acquire();
    await lease.query('BEGIN');
    await lease.query('INSERT INTO left_open VALUES (1)');
    lease.release();
    expect((await driver.query('SELECT count(*)::int AS n FROM left_open')).rows).toEqual([{ n: 0 }]);
    await driver.close();
    expect(db.closed).toBe(false);
    expect((await db.query('SELECT count(*)::int AS n FROM left_open')).rows).toEqual([{ n: 0 }]);
  });

  it('validates its options', async () => {
    await expect(createPgliteDriver({ acquireTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'acquireTimeoutMs',
    });
    await expect(createPgliteDriver({ db: {} as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
