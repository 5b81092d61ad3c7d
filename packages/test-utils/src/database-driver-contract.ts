import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The shape of a database driver as this suite sees it (structural: no @infra import). */
export interface ContractQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

export interface ContractConnection {
  query(sql: string, params?: readonly unknown[]): Promise<ContractQueryResult>;
  execute(script: string): Promise<void>;
  readonly broken: boolean;
  release(discard?: boolean): void;
}

export interface ContractDriver {
  readonly name: string;
  readonly capabilities: { concurrentConnections: boolean };
  acquire(options?: { timeoutMs?: number }): Promise<ContractConnection>;
  query(sql: string, params?: readonly unknown[]): Promise<ContractQueryResult>;
  execute(script: string): Promise<void>;
  stats(): { max: number; total: number; idle: number; inUse: number; waiting: number };
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface DatabaseDriverContractOptions {
  /** Suite title, e.g. `pg` or `pglite`. */
  name: string;
  /** A new driver on a database (or schema) of its own; called once, and closed by the suite. */
  create: () => Promise<ContractDriver>;
  /** Runs after every driver is closed (drop the schema, …). */
  cleanup?: () => Promise<void>;
}

let tables = 0;

/** Behaviour every `DatabaseDriver` must have, run against each adapter. */
export function databaseDriverContract(options: DatabaseDriverContractOptions): void {
  describe(`database driver contract: ${options.name}`, () => {
    let driver: ContractDriver;
    const table = (): string => `contract_${++tables}`;

    beforeAll(async () => {
      driver = await options.create();
    });

    afterAll(async () => {
      await driver.close();
      await options.cleanup?.();
    });

    it('runs parameterized queries and returns rows and counts', async () => {
      const result = await driver.query('SELECT $1::int + $2::int AS sum, $3::text AS label', [2, 3, 'x']);
      expect(result.rows).toEqual([{ sum: 5, label: 'x' }]);
      expect(result.rowCount).toBe(1);
      const name = table();
      await driver.query(`CREATE TABLE ${name} (id int PRIMARY KEY, note text)`);
      const inserted = await driver.query(`INSERT INTO ${name} (id, note) VALUES (1, 'a'), (2, 'b'), (3, NULL)`);
      expect(inserted.rowCount).toBe(3);
      const updated = await driver.query(`UPDATE ${name} SET note = 'z' WHERE id >= $1`, [2]);
      expect(updated.rowCount).toBe(2);
      expect((await driver.query(`SELECT id FROM ${name} WHERE id > 10`)).rowCount).toBe(0);
    });

    it('round-trips json, booleans and nulls', async () => {
      const payload = { nested: { list: [1, 'two', null] }, flag: true };
      const { rows } = await driver.query('SELECT $1::jsonb AS doc, $2::boolean AS yes, $3::text AS nothing', [
        JSON.stringify(payload),
        true,
        null,
      ]);
      expect(rows[0]).toEqual({ doc: payload, yes: true, nothing: null });
    });

    it('runs multi-statement scripts', async () => {
      const name = table();
      await driver.execute(
        `CREATE TABLE ${name} (id int); INSERT INTO ${name} VALUES (1); INSERT INTO ${name} VALUES (2);`,
      );
      expect((await driver.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]).toEqual({ n: 2 });
    });

    it('reports server errors with a code and the SQLSTATE', async () => {
      const name = table();
      await driver.query(`CREATE TABLE ${name} (id int PRIMARY KEY)`);
      await driver.query(`INSERT INTO ${name} VALUES (1)`);
      await expect(driver.query(`INSERT INTO ${name} VALUES (1)`)).rejects.toMatchObject({
        code: 'QUERY_FAILED',
        sqlState: '23505',
      });
      await expect(driver.query('SELEC 1')).rejects.toMatchObject({ code: 'QUERY_FAILED', sqlState: '42601' });
      await expect(driver.query('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('keeps a transaction on one leased connection: rollback discards, commit keeps', async () => {
      const name = table();
      await driver.query(`CREATE TABLE ${name} (id int)`);
      const first = await driver.acquire();
      try {
        await first.query('BEGIN');
        await first.query(`INSERT INTO ${name} VALUES (1)`);
        expect((await first.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]).toEqual({ n: 1 });
        await first.query('ROLLBACK');
        await first.query('BEGIN');
        await first.query(`INSERT INTO ${name} VALUES (2)`);
        await first.query('COMMIT');
      } finally {
        first.release();
      }
      expect((await driver.query(`SELECT id FROM ${name}`)).rows).toEqual([{ id: 2 }]);
    });

    it('takes leases back on release, idempotently, and refuses a released lease', async () => {
      const before = driver.stats().inUse;
      const connection = await driver.acquire();
      expect(driver.stats().inUse).toBe(before + 1);
      expect(connection.broken).toBe(false);
      connection.release();
      connection.release();
      expect(driver.stats().inUse).toBe(before);
      await expect(connection.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
    });

    it('fails with ACQUIRE_TIMEOUT when every connection is leased, and recovers', async () => {
      const { max } = driver.stats();
      const leases = await Promise.all(Array.from({ length: max }, () => driver.acquire()));
      try {
        await expect(driver.acquire({ timeoutMs: 50 })).rejects.toMatchObject({ code: 'ACQUIRE_TIMEOUT' });
      } finally {
        for (const lease of leases) lease.release();
      }
      expect((await driver.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it('hands out leases concurrently or strictly one at a time, as its capabilities say', async () => {
      const name = table();
      await driver.query(`CREATE TABLE ${name} (step text)`);
      const first = await driver.acquire();
      let secondGranted = false;
      const second = driver.acquire().then((lease) => {
        secondGranted = true;
        return lease;
      });
      if (driver.capabilities.concurrentConnections) {
        // Granted while the first lease is still held.
        await expect.poll(() => secondGranted, { timeout: 20_000 }).toBe(true);
        expect(driver.stats().inUse).toBeGreaterThanOrEqual(2);
        first.release();
      } else {
        // Queued behind the first lease: it waits, and is not granted while the first is held.
        await expect.poll(() => driver.stats().waiting, { timeout: 20_000 }).toBe(1);
        expect(secondGranted).toBe(false);
        await first.query('BEGIN');
        await first.query(`INSERT INTO ${name} VALUES ('first')`);
        await first.query('COMMIT');
        first.release();
      }
      const lease = await second;
      await lease.query(`INSERT INTO ${name} VALUES ('second')`);
      lease.release();
      const steps = (await driver.query(`SELECT step FROM ${name}`)).rows.map((row) => row.step);
      expect(steps).toContain('second');
    });

    // Last on purpose: it closes the shared driver (creating a second one can take seconds for
    // an embedded database).
    it('closes idempotently (close, asyncDispose) and refuses work afterwards', async () => {
      await driver.close({ timeoutMs: 5000 });
      await driver.close();
      await driver[Symbol.asyncDispose]();
      await expect(driver.acquire()).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
