import type { PoolClient } from 'pg';
import type { DriverConnection, QueryParams, QueryResult } from '../driver.js';
import { toPersistenceError } from '../driver-errors.js';
import { PersistenceError } from '../errors.js';
import { type QueryTarget, withQuerySpan } from '../telemetry.js';
import { checkQuery } from '../validate.js';

/** One pooled node-postgres client, leased for a transaction. */
export class PgConnection implements DriverConnection {
  private lost = false;
  private released = false;
  private readonly target: QueryTarget;
  private readonly onError = (): void => {
    // A checked-out client has no other error listener: without this one a killed backend would
    // crash the process instead of failing the next query.
    this.lost = true;
  };

  constructor(
    private readonly client: PoolClient,
    private readonly onRelease: () => void,
  ) {
    client.on('error', this.onError);
    this.target = { namespace: client.database, serverAddress: client.host, serverPort: client.port };
  }

  get broken(): boolean {
    return this.lost;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<QueryResult<R>> {
    checkQuery(sql, params);
    this.assertUsable();
    return withQuerySpan(this.target, sql, params, async () => {
      try {
        const result = await this.client.query(sql, params as unknown[] | undefined);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
      } catch (error) {
        throw this.fail(error);
      }
    });
  }

  async execute(script: string): Promise<void> {
    checkQuery(script, undefined);
    this.assertUsable();
    await withQuerySpan(this.target, script, undefined, async () => {
      try {
        await this.client.query(script);
      } catch (error) {
        throw this.fail(error);
      }
    });
  }

  release(discard = false): void {
    if (this.released) return;
    this.released = true;
    this.client.removeListener('error', this.onError);
    this.client.release(discard || this.lost ? new Error('Connection discarded by @infra/persistence') : undefined);
    this.onRelease();
  }

  private fail(error: unknown): PersistenceError {
    const coded = toPersistenceError(error);
    if (coded.code === 'CONNECTION_LOST') this.lost = true;
    return coded;
  }

  private assertUsable(): void {
    if (this.released) throw new PersistenceError('CLOSED', 'This connection was released; lease a new one');
    if (this.lost)
      throw new PersistenceError('CONNECTION_LOST', 'Database connection lost earlier on this lease', {
        isRetryable: true,
      });
  }
}
