export { PgDriver, createPgDriver, resolvePoolConfig } from './pg-driver.js';
export type { PgDriverEvents, PgDriverOptions } from './pg-driver.js';
export type { PgPoolOptions } from '../pool-options.js';
