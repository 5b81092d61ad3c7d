import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tarball of a freshly initialised PGlite data directory (see `pgliteFromTemplate`). */
    pgliteTemplate: string;
  }
}

/**
 * Initialises one PGlite database for the whole run and saves its data directory: a test starts
 * its PGlite from that copy, skipping initdb, which takes most of a PGlite start (seconds on a
 * busy machine, once per database).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  const dump = await db.dumpDataDir('none');
  await db.close();
  const directory = await mkdtemp(join(tmpdir(), 'infra-persistence-pglite-'));
  const template = join(directory, 'template.tar');
  await writeFile(template, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', template);
  return async () => {
    await rm(directory, { recursive: true, force: true });
  };
}
