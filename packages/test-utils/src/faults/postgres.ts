import { databaseUrl } from '../services.js';

/**
 * Terminates the Postgres backends whose `application_name` is `applicationName`, as a server
 * restart or a network cut would end them, and returns how many it ended. Only a test's own
 * connections carry its application name: nobody else's are touched.
 */
export async function terminateBackends(applicationName: string, url: string = databaseUrl): Promise<number> {
  if (!/^[\w.-]+$/.test(applicationName)) {
    throw new Error(`terminateBackends: "${applicationName}" is not a plain application name`);
  }
  const rows = await adminQuery<{ ended: boolean }>(
    'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
    withApplicationName(url, `${applicationName}-admin`),
  );
  return rows.filter((row) => row.ended).length;
}

/**
 * Runs one statement on a connection of its own (opened and closed here), outside any pool under
 * test: creating and dropping a test's schema, reading what a test wrote.
 */
export async function adminQuery<R extends Record<string, unknown> = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
  url: string = databaseUrl,
): Promise<R[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** `url` with `application_name` set, so that {@link terminateBackends} can find its connections. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}
