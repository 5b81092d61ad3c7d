import { recordingLogger } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPglite } from '../test/databases.js';
import { resolvePersistenceOptions } from './persistence-options.js';
import { createPgliteDriver } from './pglite/index.js';
import { TransactionManager } from './transaction-manager.js';

const RAISE_SERIALIZATION =
  "DO $$ BEGIN RAISE EXCEPTION 'forced conflict' USING ERRCODE = 'serialization_failure'; END $$";

describe('logger option', () => {
  let manager: TransactionManager | undefined;
  afterAll(async () => {
    await manager?.close();
  });

  it('logs retries as debug and a throwing hook as error, with the error', async () => {
    const logger = recordingLogger();
    const driver = await createPgliteDriver({ db: await sharedPglite() });
    manager = new TransactionManager(driver, { retryInitialDelayMs: 1, retryMaxDelayMs: 5, logger });
    let attempts = 0;
    await manager.withTransaction(async (tx) => {
      tx.afterCommit(() => {
        throw new Error('hook broke');
      });
      if (++attempts === 1) await tx.query(RAISE_SERIALIZATION);
    });
    expect(logger.lines.map((line) => [line.level, (line.fields.err as Error | undefined)?.message])).toEqual([
      ['debug', expect.stringContaining('forced conflict')],
      ['error', 'hook broke'],
    ]);
    expect(logger.lines[1]?.fields).toMatchObject({ hook: 'afterCommit' });
  });

  it('refuses a logger without the four methods, naming the option', () => {
    expect(() => resolvePersistenceOptions({ logger: { info() {}, warn() {}, error() {} } as never }, {})).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'logger' }),
    );
  });
});
