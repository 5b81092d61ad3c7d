import { type TelemetryAttributes, type TelemetryTracer, tracerFor, tracingEnabled, withSpan } from '@infra/core';

/** The tracer of the persistence spans: transactions, units of work and queries. */
export const tracer: TelemetryTracer = tracerFor('@infra/persistence');

/** Where a connection's queries go: the attributes every query span of it carries. */
export interface QueryTarget {
  /** The database name (`db.namespace`), when known without asking the server. */
  readonly namespace?: string | undefined;
  readonly serverAddress?: string | undefined;
  readonly serverPort?: number | undefined;
}

/** `db.system.name` (stable conventions) and `db.system` (earlier ones): both Postgres, PGlite included. */
export const systemAttributes: TelemetryAttributes = { 'db.system.name': 'postgresql', 'db.system': 'postgresql' };

// Comments, then the first word: `SELECT`, `INSERT`, `WITH`, `BEGIN`, …
const leadingWord = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/;
// Quoted strings (with doubled quotes), dollar-quoted strings, and numbers that stand alone.
const literals = /'(?:[^']|'')*'|\$([A-Za-z_]*)\$[\s\S]*?\$\1\$|(?<![\w$.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])/gi;

/** The operation of a statement: its first keyword, upper-cased. */
export function operationOf(sql: string): string | undefined {
  return leadingWord.exec(sql)?.[1]?.toUpperCase();
}

/**
 * The statement as `db.query.text`: a parameterized statement as it is (its values travel apart),
 * any other with its literals replaced by `?`, so that no value reaches the trace.
 */
export function queryTextOf(sql: string, parameterized: boolean): string {
  return parameterized ? sql : sql.replace(literals, '?');
}

/**
 * Runs `run` inside a CLIENT span named after the operation and the database (`SELECT test`),
 * with the database attributes of the stable conventions. Without an SDK, calls `run` as it is.
 */
export function withQuerySpan<T>(
  target: QueryTarget,
  sql: string,
  params: readonly unknown[] | undefined,
  run: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return run();
  const operation = operationOf(sql);
  const name = [operation, target.namespace].filter((part) => part !== undefined).join(' ') || 'postgresql';
  const attributes: TelemetryAttributes = {
    ...systemAttributes,
    'db.namespace': target.namespace,
    'db.operation.name': operation,
    'db.query.text': queryTextOf(sql, params !== undefined && params.length > 0),
    'server.address': target.serverAddress,
    'server.port': target.serverPort,
  };
  return withSpan(tracer, name, { kind: 'client', attributes }, async (span) => {
    try {
      const result = await run();
      const rows = (result as { rows?: unknown } | undefined)?.rows;
      if (Array.isArray(rows)) span?.setAttribute('db.response.returned_rows', rows.length);
      return result;
    } catch (error) {
      // The drivers' errors carry the server's SQLSTATE, when there is one.
      const sqlState = (error as { sqlState?: unknown } | null)?.sqlState;
      if (typeof sqlState === 'string') span?.setAttribute('db.response.status_code', sqlState);
      throw error;
    }
  });
}
