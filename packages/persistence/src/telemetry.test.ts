import { parentOf, startTestTracing, type ReadableSpan, type TestTracing } from '@infra/test-utils/tracing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { driverFixtures } from '../test/databases.js';
import type { DatabaseDriver } from './driver.js';
import { Persistence } from './persistence.js';
import { operationOf, queryTextOf } from './telemetry.js';
import { TransactionManager } from './transaction-manager.js';

const RAISE_SERIALIZATION =
  "DO $$ BEGIN RAISE EXCEPTION 'forced conflict' USING ERRCODE = 'serialization_failure'; END $$";

describe('operationOf and queryTextOf', () => {
  it('takes the first keyword after comments as the operation', () => {
    expect(operationOf('select 1')).toBe('SELECT');
    expect(operationOf('  -- note\n/* block */ INSERT INTO t VALUES ($1)')).toBe('INSERT');
    expect(operationOf('')).toBeUndefined();
  });

  it('keeps a parameterized statement and hides the literals of any other', () => {
    expect(queryTextOf("SELECT * FROM t WHERE a = $1 AND b = 'x'", true)).toBe(
      "SELECT * FROM t WHERE a = $1 AND b = 'x'",
    );
    expect(queryTextOf("SELECT * FROM t2 WHERE name = 'O''Brien' AND n > -4.5 AND c = $tag$secret$tag$", false)).toBe(
      'SELECT * FROM t2 WHERE name = ? AND n > ? AND c = ?',
    );
    expect(queryTextOf('SET LOCAL statement_timeout = 500', false)).toBe('SET LOCAL statement_timeout = ?');
  });
});

const names = (spans: readonly ReadableSpan[]): string[] => spans.map((span) => span.name);

describe.each(driverFixtures('telemetry'))('spans on $name', (fixture) => {
  let tracing: TestTracing;
  let driver: DatabaseDriver;
  let manager: TransactionManager;
  const namespace = fixture.name === 'pg' ? 'test' : undefined;
  const named = (operation: string): string => (namespace === undefined ? operation : `${operation} ${namespace}`);

  beforeAll(async () => {
    tracing = startTestTracing();
    driver = await fixture.create();
    manager = new TransactionManager(driver, { retryInitialDelayMs: 1, retryMaxDelayMs: 5, acquireTimeoutMs: 60_000 });
    await driver.query('CREATE TABLE traced (id int PRIMARY KEY, note text)');
  });
  afterEach(() => {
    tracing.reset();
  });
  afterAll(async () => {
    await manager.close();
    await driver.close();
    await fixture.drop();
    await tracing.stop();
  });

  it('records a transaction span with BEGIN, the queries and COMMIT as CLIENT children', async () => {
    await manager.withTransaction(async (tx) => {
      await tx.query('INSERT INTO traced VALUES ($1, $2)', [1, 'secret note']);
      await tx.query('SELECT note FROM traced WHERE id = 1');
    });
    const spans = tracing.spans();
    const [transaction] = tracing.spansNamed('transaction');
    expect(transaction?.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.transaction.isolation_level': 'read committed',
      'db.transaction.attempts': 1,
    });
    const children = spans.filter((span) => parentOf(span, spans) === transaction);
    expect(names(children)).toEqual([named('BEGIN'), named('INSERT'), named('SELECT'), named('COMMIT')]);
    const [, insert, select] = children;
    expect(insert?.kind).toBe(2);
    expect(insert?.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.system': 'postgresql',
      'db.operation.name': 'INSERT',
      'db.query.text': 'INSERT INTO traced VALUES ($1, $2)',
    });
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('secret note');
    expect(select?.attributes).toMatchObject({
      'db.query.text': 'SELECT note FROM traced WHERE id = ?',
      'db.response.returned_rows': 1,
    });
    if (fixture.name === 'pg') {
      expect(insert?.attributes).toMatchObject({
        'db.namespace': 'test',
        'server.address': expect.any(String) as unknown,
        'server.port': 5432,
      });
    } else {
      expect(insert?.attributes['server.address']).toBeUndefined();
    }
  });

  it('adds each retry as an event on the transaction span', async () => {
    let attempts = 0;
    await manager.withTransaction(async (tx) => {
      if (++attempts === 1) await tx.query(RAISE_SERIALIZATION);
    });
    const [transaction] = tracing.spansNamed('transaction');
    expect(transaction?.attributes['db.transaction.attempts']).toBe(2);
    expect(transaction?.events.map((event) => [event.name, event.attributes?.['error.type']])).toEqual([
      ['retry', 'SERIALIZATION_FAILURE'],
    ]);
    const failed = tracing.spans().find((span) => span.attributes['db.operation.name'] === 'DO');
    expect(failed?.status.code).toBe(2);
    expect(failed?.attributes).toMatchObject({
      'db.response.status_code': '40001',
      'error.type': 'SERIALIZATION_FAILURE',
    });
    expect(names(tracing.spans()).filter((name) => name.startsWith('ROLLBACK'))).toHaveLength(1);
  });

  it('records a query outside a transaction as a root CLIENT span, and a failed one with its SQLSTATE', async () => {
    await expect(driver.query('SELECT * FROM missing_table')).rejects.toMatchObject({ sqlState: '42P01' });
    const [span] = tracing.spans();
    expect(span?.name).toBe(named('SELECT'));
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes['db.response.status_code']).toBe('42P01');
  });

  it('records a unit of work run by runUnitOfWork with its queries as children', async () => {
    await using persistence = new Persistence({ driver }, {});
    await persistence.runUnitOfWork(async (unitOfWork) => {
      await unitOfWork.transaction.query('SELECT count(*) FROM traced');
    });
    const spans = tracing.spans();
    const [unit] = tracing.spansNamed('unit of work');
    expect(unit?.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.transaction.attempts': 1 });
    expect(names(spans.filter((span) => parentOf(span, spans) === unit))).toEqual([
      named('BEGIN'),
      named('SELECT'),
      named('COMMIT'),
    ]);
  });
});

describe('without an SDK', () => {
  it('records nothing', async () => {
    const tracing = startTestTracing();
    await tracing.stop();
    const [fixture] = driverFixtures('telemetry_off').filter((candidate) => candidate.name === 'pglite');
    const driver = await fixture!.create();
    const manager = new TransactionManager(driver);
    expect(await manager.withTransaction((tx) => tx.query('SELECT 1 AS one'))).toMatchObject({ rows: [{ one: 1 }] });
    await manager.close();
    await driver.close();
    expect(tracing.spans()).toEqual([]);
  });
});
