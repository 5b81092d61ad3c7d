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
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: url, application_name: `${applicationName}-admin` });
  await admin.connect();
  try {
    const result = await admin.query<{ ended: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [applicationName],
    );
    return result.rows.filter((row) => row.ended).length;
  } finally {
    await admin.end();
  }
}

/** `url` with `application_name` set, so that {@link terminateBackends} can find its connections. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}
