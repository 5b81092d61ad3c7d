export { PgliteDriver, createPgliteDriver } from './pglite-driver.js';
export type { PgliteDriverOptions } from './pglite-driver.js';
