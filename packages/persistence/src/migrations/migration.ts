import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError, PersistenceError } from '../errors.js';
import { nonEmptyString } from '../validate.js';

/** One schema change. Migrations apply in `id` order (numeric-aware: `2_x` before `10_x`). */
export interface Migration {
  /** Stable identifier, recorded in the migrations table (a file's name without `.sql`). */
  id: string;
  /** SQL script; may hold several statements. Runs in a transaction: do not BEGIN/COMMIT in it. */
  sql: string;
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

const collator = new Intl.Collator('en', { numeric: true });

/** Validates, de-duplicates and orders migrations. */
export function sortMigrations(migrations: readonly Migration[]): Migration[] {
  const list: unknown = migrations;
  if (!Array.isArray(list))
    throw new InvalidOptionError('migrations', list, 'a directory path or an array of migrations');
  const seen = new Set<string>();
  const checked = (list as unknown[]).map((entry, index): Migration => {
    const candidate = (entry ?? {}) as Partial<Record<keyof Migration, unknown>>;
    const id = nonEmptyString(`migrations[${index}].id`, candidate.id);
    if (typeof candidate.sql !== 'string')
      throw new InvalidOptionError(`migrations[${index}].sql`, candidate.sql, 'an SQL string');
    if (seen.has(id)) throw new InvalidOptionError(`migrations[${index}].id`, id, 'an id used by no other migration');
    seen.add(id);
    return { id, sql: candidate.sql };
  });
  return checked.sort((a, b) => collator.compare(a.id, b.id));
}

/** Reads every `*.sql` file of `directory` as a migration named after the file. */
export async function loadMigrations(directory: string): Promise<Migration[]> {
  nonEmptyString('directory', directory, 'INVALID_ARGUMENT');
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    throw new PersistenceError('MIGRATION_FAILED', `Cannot read the migrations directory "${directory}"`, {
      cause: error,
    });
  }
  const files = names.filter((name) => name.endsWith('.sql'));
  const migrations = await Promise.all(
    files.map(async (name) => ({
      id: name.slice(0, -'.sql'.length),
      sql: await readFile(join(directory, name), 'utf8'),
    })),
  );
  return sortMigrations(migrations);
}
